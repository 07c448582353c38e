"""``mpm-cloud`` as a process: idempotent seed-demo; serve runs everything and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import paho.mqtt.subscribe as subscribe
import pytest

from firmware_protocols import sync
from tests.support.broker import Broker
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for


def cloud(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"MPM_DATABASE_URL": f"sqlite+aiosqlite:///{db}"} | env
    return subprocess.run(
        [sys.executable, "-m", "cloud.cli", "--log-level", "WARNING", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_seed_demo_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "cloud.db"
    first = cloud(db, "seed-demo", "--agent", "demo-1", "--sign", "lobby", "--json")
    second = cloud(db, "seed-demo", "--agent", "demo-1", "--sign", "lobby", "--json")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["org_id"] == b["org_id"]
    assert a["token"] != b["token"]
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT display_name FROM member ORDER BY pin")]
        assert names == ["Alice", "Bob", "Carol", "Dave", "Erin", "张三"]
        assert conn.execute("SELECT count(*) FROM display").fetchone() == (1,)


def test_bad_settings_and_agent_ids_are_refused(tmp_path: Path) -> None:
    bad_url = cloud(tmp_path / "x.db", "migrate", MPM_MQTT_URL="http://nope")
    assert bad_url.returncode == 78
    assert "MPM_MQTT_URL: Value error, mqtt_url must start with mqtt://" in bad_url.stderr
    bad_agent = cloud(tmp_path / "x.db", "seed-demo", "--agent", "Bad_Agent", "--sign", "s")
    assert bad_agent.returncode == 2
    assert "agent id" in bad_agent.stderr


def test_create_org_prints_a_working_token(tmp_path: Path) -> None:
    result = cloud(tmp_path / "cloud.db", "create-org", "Sunny School", "--kind", "school", "--create")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) >= 40


@pytest.mark.timeout(60)
def test_serve_runs_everything_and_stops_on_sigterm(tmp_path: Path, broker: Broker) -> None:
    db = tmp_path / "cloud.db"
    token = json.loads(cloud(db, "seed-demo", "--agent", "demo-1", "--sign", "lobby", "--json").stdout)[
        "token"
    ]
    port = free_port()
    environ = os.environ | {"MPM_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "MPM_MQTT_URL": broker.url}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cloud.cli", "serve", "--port", str(port)],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: accepts_tcp("127.0.0.1", port), timeout=30, what="mpm-cloud serve")
        org = httpx.get(f"http://127.0.0.1:{port}/api/v1/org", headers={"Authorization": f"Bearer {token}"})
        assert org.json()["name"] == "MPM demo"
        content = wait_for(lambda: _retained_display(broker, "demo-1"), timeout=15, what="start-up display")
        assert [s.sign for s in content.signs] == ["lobby"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def _retained_display(broker: Broker, agent_id: str) -> sync.DisplayContent | None:
    try:
        message = subscribe.simple(  # type: ignore[no-untyped-call]
            sync.topic(agent_id, sync.Channel.DISPLAY),
            hostname=broker.host,
            port=broker.port,
            qos=1,
            retained=True,
            keepalive=5,
        )
    except Exception:  # broker not ready or nothing retained yet
        return None
    return sync.decode_display(message.payload)
