"""The spine, end to end with real parts: a punch on a simulated ZK terminal moves the ranking on a
simulated Alpha LED sign.

    ZK terminal (4370/TCP) → mpm-agent → SQLite outbox → Mosquitto → mpm-cloud ingest → attendance →
    point rule → ledger → ranking → retained display content → mpm-agent renderer → Alpha sign (pty)

Only the terminal runs inside the test process (so the test can press its "punch" button); the cloud,
the agent and the sign are separate processes, and the broker is a real Mosquitto on a free port.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx

from simulators.state_file import read_state
from simulators.zk_terminal.server import ZkTerminal
from simulators.zk_terminal.threaded import TerminalThread
from tests.e2e.processes import BIN, cloud_env, process_group, seed_demo, start_alpha_sign, start_cloud
from tests.support.broker import Broker
from tests.support.network import free_port
from tests.support.polling import wait_for

AGENT_ID = "spine-agent"
SIGN = "lobby"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def agent_config(tmp: Path, broker: Broker, zk_port: int, sign_tty: Path) -> Path:
    config = tmp / "agent.toml"
    config.write_text(
        f"""agent_id = "{AGENT_ID}"
[mqtt]
url = "{broker.url}"
keepalive_s = 10
ack_timeout_s = 5
[outbox]
path = "{tmp / "outbox.db"}"
[[devices]]
kind = "zkteco"
name = "zk-front"
host = "127.0.0.1"
port = {zk_port}
[[devices]]
kind = "alpha_sign"
name = "{SIGN}"
port = "{sign_tty}"
columns = 20
rows = 5
"""
    )
    return config


def sign_lines(state_file: Path) -> list[str]:
    state = read_state(state_file) or {}
    return [str(line) for line in state.get("showing", [])]


def get(api: str, token: str, path: str, **params: Any) -> Any:
    response = httpx.get(
        f"{api}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def test_a_punch_moves_the_ranking_on_the_sign(tmp_path: Path, broker: Broker) -> None:
    env = cloud_env(tmp_path / "cloud.db", broker.url)
    seeded = seed_demo(env, AGENT_ID, SIGN)
    token = str(seeded["token"])
    zk_port = free_port()
    with process_group(tmp_path / "logs") as group, TerminalThread(ZkTerminal(port=zk_port)) as terminal:
        api = start_cloud(group, env)
        sign_tty, sign_state = start_alpha_sign(group, tmp_path, SIGN)
        config = agent_config(tmp_path, broker, zk_port, sign_tty)
        agent = group.start("agent", [str(BIN / "mpm-agent"), "run", "--config", str(config)])
        wait_for(lambda: terminal.registered_clients() or agent.poll() is not None, timeout=30, what="agent")
        assert agent.poll() is None, group.log_tail("agent")

        # Carol (PIN 3) checks in at 08:30 local time today: on time for the 09:00 shift (+2 points).
        when = dt.datetime.now(SHANGHAI).replace(hour=8, minute=30, second=0, microsecond=0)
        terminal.punch("3", when.replace(tzinfo=None), state=0, verify=1)

        punches = wait_for(lambda: get(api, token, "/punches"), timeout=40, what="the punch in the cloud")
        entries = wait_for(lambda: get(api, token, "/ledger-entries"), timeout=40, what="a ledger entry")
        lines = wait_for(
            lambda: [line for line in sign_lines(sign_state) if "Carol" in line],
            timeout=40,
            what="Carol on the sign",
        )
        assert [(p["pin"], p["device"]) for p in punches] == [("3", "zk-front")]
        assert len(entries) == 1
        assert entries[0]["points"] == 2
        assert lines == [lines[0]]
        rank, *_, points = lines[0].split()
        assert (rank, points) == ("1", "2")

        # The agent re-reads the terminal's whole log periodically and the MQTT link is at-least-once:
        # after a second punch has gone all the way through, the first is still there exactly once.
        terminal.punch("1", when.replace(hour=9, minute=20, tzinfo=None), state=0, verify=15)
        wait_for(lambda: any("Alice" in line for line in sign_lines(sign_state)), timeout=40, what="Alice")
        punches = get(api, token, "/punches")
        assert sorted(p["pin"] for p in punches) == ["1", "3"]
        assert len(get(api, token, "/ledger-entries")) == 2
