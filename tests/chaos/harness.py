"""The chaos rig: real processes (Mosquitto, ``mpm-cloud serve``, ``mpm-agent run``) on loopback, a
simulated ZK terminal in this process, a ledger of every punch generated, and the checker.

Rules: every process can be killed with SIGKILL and restarted on the same files and ports; every wait
is a poll with a deadline; the checker compares the ledger with the cloud's ``attendance_punch`` rows
by the punch's dedup key (``serial|pin|local time|state``), so a lost punch and a doubled punch are
both counted, whatever event ids they travelled under.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from cloud.db.models import Member
from cloud.db.session import create_engine, session_factory
from simulators.zk_terminal.server import ZkTerminal
from simulators.zk_terminal.threaded import TerminalThread
from tests.chaos.parts import LockingTerminal, MosquittoProcess, small_filesystem
from tests.e2e.processes import BIN, ProcessGroup, cloud_env, process_group, seed_demo, start_cloud
from tests.support.network import free_port
from tests.support.polling import wait_for

AGENT_ID = "chaos-agent"
DEVICE = "zk-chaos"
SERIAL = "SIM0000000001"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TERMINAL_ZONE = "Asia/Shanghai"  # the simulator's and the driver's default
# Distinct people the generator punches for; registered as members of the demo organisation, since
# ingest refuses (quarantines) a punch whose PIN belongs to no member.
PINS = 1000


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    """One scenario's figures."""

    scenario: str
    rounds: int
    generated: int
    found: int
    lost: int
    duplicated: int
    unexpected: int
    drain_seconds: float


class Ledger:
    """Every punch the generator made, by dedup key, in order."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        # The terminal's local wall time (naive, as ZK terminals keep it), a little in the past.
        now = dt.datetime.now(ZoneInfo(TERMINAL_ZONE)).replace(tzinfo=None, microsecond=0)
        self._base = now - dt.timedelta(minutes=10)
        self._next = 0

    def next_punches(self, count: int, *, same_time: bool = False) -> list[tuple[str, dt.datetime]]:
        """``count`` new (pin, terminal local time) pairs, never used before in this ledger.

        Punch number i is PIN ``10000 + i % PINS`` at second ``i // PINS``: all distinct. A burst
        (``same_time``) starts on a fresh second, so its ≤ PINS punches share one timestamp.
        """
        if same_time:
            assert count <= PINS, f"a burst shares one second: at most {PINS} people"
            self._next = -(-self._next // PINS) * PINS
        first, self._next = self._next, self._next + count
        return [
            (str(10_000 + i % PINS), self._base + dt.timedelta(seconds=i // PINS))
            for i in range(first, first + count)
        ]

    def record(self, pin: str, when: dt.datetime, state: int = 0) -> None:
        self.keys.append(f"{SERIAL}|{pin}|{when.strftime(TIME_FORMAT)}|{state}")


class Rig:
    """The whole system for one scenario; see ``rig()``."""

    def __init__(self, tmp: Path, group: ProcessGroup, terminal: TerminalThread, zk_port: int) -> None:
        self.tmp, self.group, self.terminal, self.zk_port = tmp, group, terminal, zk_port
        self.broker = MosquittoProcess(tmp)
        self.cloud_db = tmp / "cloud.db"
        self.outbox = tmp / "outbox.db"
        self.config = tmp / "agent.toml"
        self.ledger = Ledger()

    # -- processes ----------------------------------------------------------------------------

    def cloud_env(self, **extra: str) -> dict[str, str]:
        return cloud_env(self.cloud_db, self.broker.url) | extra

    def log_count(self, name: str, text: str) -> int:
        """How often ``text`` occurs in the log of ``name`` (all its runs)."""
        path = self.group.log_dir / f"{name}.log"
        return path.read_text(errors="replace").count(text) if path.exists() else 0

    def start_cloud(self, **extra_env: str) -> None:
        """``mpm-cloud serve``; returns once its ingest has subscribed."""
        before = self.log_count("cloud", "ingest subscribed")
        start_cloud(self.group, self.cloud_env(**extra_env))
        wait_for(
            lambda: self.log_count("cloud", "ingest subscribed") > before, timeout=60, what="cloud ingest"
        )

    def kill(self, name: str) -> None:
        child = self.group.children[name]
        if child.poll() is None:
            child.kill()
        child.wait(timeout=15)

    def write_agent_config(self, *, max_bytes: int = 64 * 1024 * 1024, pull_interval_s: float = 1.0) -> None:
        self.config.write_text(
            f"""agent_id = "{AGENT_ID}"
status_interval_s = 2
[mqtt]
url = "{self.broker.url}"
keepalive_s = 5
ack_timeout_s = 3
[outbox]
path = "{self.outbox}"
max_bytes = {max_bytes}
batch_size = 100
max_in_flight_batches = 4
[observability]
enabled = false
[[devices]]
kind = "zkteco"
name = "{DEVICE}"
host = "127.0.0.1"
port = {self.zk_port}
pull_interval_s = {pull_interval_s}
timeout_s = 10
reconnect_min_s = 0.2
reconnect_max_s = 2
"""
        )

    def start_agent(self, **extra_env: str) -> None:
        env = dict(os.environ) | extra_env
        argv = [str(BIN / "mpm-agent"), "run", "--config", str(self.config)]
        child = self.group.start("agent", argv, env)
        wait_for(
            lambda: self.terminal.registered_clients() or child.poll() is not None, timeout=60, what="agent"
        )
        assert child.poll() is None, self.group.log_tail("agent")

    def agent_alive(self) -> bool:
        return self.group.children["agent"].poll() is None

    def outbox_status(self) -> dict[str, object]:
        """``mpm-agent status --json`` (reads the outbox file directly)."""
        done = subprocess.run(
            [str(BIN / "mpm-agent"), "status", "--config", str(self.config), "--json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        status: dict[str, object] = json.loads(done.stdout)
        return status

    def outbox_rows(self) -> tuple[int, int]:
        """(punches ever accepted, rows waiting) read straight from the outbox file."""
        with closing(sqlite3.connect(self.outbox, timeout=30)) as conn:
            (accepted,) = conn.execute("SELECT COUNT(*) FROM dedup").fetchone()
            (waiting,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(accepted), int(waiting)

    # -- the generator ------------------------------------------------------------------------

    def punch_live(self, count: int, *, same_time: bool = False) -> None:
        """``count`` punches pressed on the terminal (logged, and sent live to the agent if registered)."""
        for pin, when in self.ledger.next_punches(count, same_time=same_time):
            self.terminal.punch(pin, when, state=0, verify=1)
            self.ledger.record(pin, when)

    def punch_into_log(self, count: int, *, same_time: bool = False) -> None:
        """``count`` punches appended to the terminal's log at once (read by the agent's next pull)."""
        punches = self.ledger.next_punches(count, same_time=same_time)
        self.terminal.call(_append(self.terminal.terminal, punches))
        for pin, when in punches:
            self.ledger.record(pin, when)

    # -- the checker --------------------------------------------------------------------------

    def cloud_counts(self) -> dict[str, int]:
        """Rows per punch dedup key in the cloud database."""
        if not self.cloud_db.exists():
            return {}
        with closing(sqlite3.connect(self.cloud_db, timeout=30)) as conn:
            rows = conn.execute("SELECT dedup_key, COUNT(*) FROM attendance_punch GROUP BY dedup_key")
            return {str(key): int(n) for key, n in rows}

    def agent_events(self, kind: str) -> list[dict[str, object]]:
        with closing(sqlite3.connect(self.cloud_db, timeout=30)) as conn:
            rows = conn.execute("SELECT data FROM agent_event WHERE kind = ?", (kind,))
            return [json.loads(data) for (data,) in rows]

    def cloud_status(self) -> dict[str, object]:
        """The agent's last status as the cloud recorded it (from the retained status topic)."""
        with closing(sqlite3.connect(self.cloud_db, timeout=30)) as conn:
            row = conn.execute("SELECT last_status FROM agent WHERE agent_id = ?", (AGENT_ID,)).fetchone()
        status: dict[str, object] = json.loads(row[0]) if row and row[0] else {}
        return status

    def wait_status_settled(self) -> None:
        """Poll until the cloud's view of the agent is online with an empty backlog."""

        def settled() -> bool:
            status = self.cloud_status()
            return status.get("state") == "online" and status.get("backlog_rows") == 0

        wait_for(
            settled,
            timeout=30,
            interval=0.5,
            what="the agent's retained status: online, backlog 0",
        )

    def wait_drained(self, since: float, timeout: float) -> float:
        """Poll until every ledger punch is in the cloud (or ``timeout``); return seconds since ``since``.

        A timeout is not raised here: the checker then reports what was lost.
        """
        wanted = set(self.ledger.keys)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: wanted <= self.cloud_counts().keys(), timeout=timeout, interval=0.5)
        return time.monotonic() - since

    def check(self, scenario: str, *, rounds: int, drain_seconds: float) -> Report:
        """Compare the ledger with the cloud database."""
        return check(
            scenario, self.ledger.keys, self.cloud_counts(), rounds=rounds, drain_seconds=drain_seconds
        )


def check(
    scenario: str, ledger: list[str], cloud: dict[str, int], *, rounds: int, drain_seconds: float
) -> Report:
    """lost = generated punches missing in the cloud; duplicated = extra copies of any punch."""
    wanted = set(ledger)
    return Report(
        scenario=scenario,
        rounds=rounds,
        generated=len(ledger),
        found=sum(1 for key in wanted if key in cloud),
        lost=sum(1 for key in wanted if key not in cloud),
        duplicated=sum(n - 1 for n in cloud.values() if n > 1) + (len(ledger) - len(wanted)),
        unexpected=sum(1 for key in cloud if key not in wanted),
        drain_seconds=round(drain_seconds, 2),
    )


async def _append(terminal: ZkTerminal, punches: list[tuple[str, dt.datetime]]) -> None:
    for pin, when in punches:
        terminal.model.add_punch(pin, when, 0, 1)


def record_report(report: Report, summary_file: Path) -> None:
    """Append one scenario's figures to the run's JSON-lines summary."""
    with summary_file.open("a") as out:
        out.write(json.dumps(dataclasses.asdict(report)) + "\n")


@contextmanager
def rig(
    tmp: Path, *, max_bytes: int = 64 * 1024 * 1024, pull_interval_s: float = 1.0, outbox_fs_bytes: int = 0
) -> Iterator[Rig]:
    """Broker + seeded cloud + terminal + agent config (the agent is started by the scenario).

    ``outbox_fs_bytes``: put the outbox on a tmpfs of that size (when root; else on the test's disk).
    """
    zk_port = free_port()
    with ExitStack() as stack:
        outbox_dir = stack.enter_context(small_filesystem(tmp / "outbox-fs", outbox_fs_bytes))
        group = stack.enter_context(process_group(tmp / "logs"))
        locking_terminal = LockingTerminal(port=zk_port, serial_number=SERIAL)
        terminal = stack.enter_context(TerminalThread(locking_terminal, timeout=60))
        setup = Rig(tmp, group, terminal, zk_port)
        setup.outbox = outbox_dir / "outbox.db"
        stack.callback(setup.broker.kill)
        setup.broker.start()
        seeded = seed_demo(setup.cloud_env(), AGENT_ID, "lobby")
        register_members(setup.cloud_db, int(str(seeded["org_id"])), [str(10_000 + i) for i in range(PINS)])
        setup.write_agent_config(max_bytes=max_bytes, pull_interval_s=pull_interval_s)
        yield setup


def register_members(cloud_db: Path, org_id: int, pins: list[str]) -> None:
    """Add a member for each PIN to the organisation, straight into the cloud's database."""

    async def add() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{cloud_db}")
        try:
            async with session_factory(engine)() as session:
                session.add_all(Member(org_id=org_id, display_name=f"Chaos {pin}", pin=pin) for pin in pins)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(add())
