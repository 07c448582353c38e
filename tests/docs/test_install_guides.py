"""The documented set-up, run as written: docs/CLOUD-INSTALL.md, then docs/INSTALL.md on the "box".

Both guides run in one sandbox shell (tests/docs/sandbox.py says what is real and what stands in): the
cloud installed from the release archive into its own venv, PostgreSQL, the agent CA, Mosquitto with
the configuration `mpm-cloud broker-config` generates, the cloud as a systemd unit with its own MQTT
client certificate; then the agent's package, enrolment through the real flow, the agent as its unit.
Then a punch on a simulated ZK terminal must reach the ledger and the simulated Alpha sign, through the
mutual-TLS broker and its access list. Last, the guides' retirement and backup sections.

The guides use fixed names and ports (8000, 8883, the database `mpm_cloud`): this test needs them free
and drops its database and role before and after.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import grp
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.state_file import read_state
from simulators.zk_terminal.server import ZkTerminal
from simulators.zk_terminal.threaded import TerminalThread
from tests.docs.guide import CommandBlock, command_blocks
from tests.docs.sandbox import PROJECT, Sandbox
from tests.e2e.processes import process_group, start_alpha_sign
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

DOCS = PROJECT / "docs"
CLOUD_GUIDE = command_blocks(DOCS / "CLOUD-INSTALL.md")
AGENT_GUIDE = command_blocks(DOCS / "INSTALL.md")
API = "http://127.0.0.1:8000"
RELEASE = "mpm-edge-0.1.0"
CONF_D = "/etc/mpm-agent/conf.d"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# INSTALL.md §8 is for developers building the package: tests/ops/test_deb.py runs its build.
NOT_HERE = {"8. Building the package (developers)"}


def section(blocks: list[CommandBlock], *numbers: str) -> list[CommandBlock]:
    """The blocks under the headings that start with one of ``numbers`` ("3b." …), in order."""
    return [b for b in blocks if b.section.split(" ", 1)[0].rstrip(".") in numbers]


CLOUD_SET_UP = section(CLOUD_GUIDE, "1", "2", "3", "4", "5", "6", "7")
BOX_SET_UP = section(AGENT_GUIDE, "1", "2", "3b")
BOX_CHECKS = section(AGENT_GUIDE, "4", "7")
CLOUD_LATER = section(CLOUD_GUIDE, "8", "9")


def test_every_command_block_of_the_install_guides_is_run() -> None:
    """A block added to either guide must be placed in the run below (or be developers' §8)."""
    planned = CLOUD_SET_UP + BOX_SET_UP + BOX_CHECKS + CLOUD_LATER
    everything = [b for b in CLOUD_GUIDE + AGENT_GUIDE if b.section not in NOT_HERE]
    assert [b.where for b in everything if b not in planned] == []
    assert all(len(part) >= 2 for part in (CLOUD_SET_UP, BOX_SET_UP, BOX_CHECKS, CLOUD_LATER))


@pytest.mark.timeout(900)
def test_the_documented_set_up_carries_a_punch_to_the_ledger_and_the_sign(tmp_path: Path) -> None:
    for port in (8000, 8883):
        assert not accepts_tcp("127.0.0.1", port), f"port {port} is taken: the guides need it free"
    with postgres_database(), guide_sandbox(tmp_path / "sandbox") as sandbox:
        for block in CLOUD_SET_UP + BOX_SET_UP:
            sandbox.run(block)
        admin = sandbox.run('echo "$ADMIN"').strip()
        zk_port = free_port()
        with process_group(tmp_path / "logs") as group, TerminalThread(ZkTerminal(port=zk_port)) as zk:
            sign_tty, sign_state = start_alpha_sign(group, tmp_path, "hall-sign")
            give_to_dialout(sign_tty)
            write_site_config(sandbox, zk_port, sign_tty.resolve())
            sandbox.run("systemctl restart mpm-agent")
            wait_for(lambda: online_agent(admin), timeout=60, what="the enrolled agent online")
            prepare_organisation(admin)
            wait_for(zk.registered_clients, timeout=60, what="the agent at the ZK terminal")

            at_half_past_eight = dt.datetime.now(SHANGHAI).replace(hour=8, minute=30, second=0, microsecond=0)
            zk.punch("3", at_half_past_eight.replace(tzinfo=None), state=0, verify=1)

            entries = wait_for(
                lambda: get(admin, "/api/v1/ledger-entries"), timeout=60, what="a ledger entry"
            )
            assert [(e["points"], e["source"]) for e in entries] == [(2, "attendance")]
            row = wait_for(lambda: sign_rows(sign_state, "Carol"), timeout=60, what="Carol on the sign")
            assert (row.split()[0], row.split()[-1]) == ("1", "2"), row
            for block in BOX_CHECKS:
                sandbox.run(block)
        for block in CLOUD_LATER:
            sandbox.run(block)
        assert get(admin, "/api/v1/ledger-entries"), "the restored database holds the ledger"


@contextlib.contextmanager
def guide_sandbox(root: Path) -> Iterator[Sandbox]:
    """The sandbox with the release archive in the installer's home; every service stopped on exit."""
    sandbox = Sandbox(root)
    try:
        release_archive(sandbox.home / f"{RELEASE}.tar.gz")
        yield sandbox
    finally:
        sandbox.close()


def release_archive(path: Path) -> None:
    """What an installer is handed: the project's files (tracked and new, not ignored) in mpm-edge-0.1.0/."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    with tarfile.open(path, "w:gz") as archive:
        for name in sorted(set(filter(None, listed.split("\0")))):
            if (PROJECT / name).is_file():
                archive.add(PROJECT / name, arcname=f"{RELEASE}/{name}")


@contextlib.contextmanager
def postgres_database() -> Iterator[None]:
    """The guide's database and role, dropped before (a failed earlier run) and after."""
    drop_guide_database()
    try:
        yield
    finally:
        drop_guide_database()


def drop_guide_database() -> None:
    for statement in ("DROP DATABASE IF EXISTS mpm_cloud WITH (FORCE)", 'DROP ROLE IF EXISTS "mpm-cloud"'):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-q", "-c", statement],
            check=True,
            capture_output=True,
            cwd="/",
        )


def give_to_dialout(tty_link: Path) -> None:
    """What the udev rule does for a USB adapter: root:dialout 0660, so the service user can open it."""
    device = tty_link.resolve()
    os.chown(device, 0, grp.getgrnam("dialout").gr_gid)
    device.chmod(0o660)


def write_site_config(sandbox: Sandbox, zk_port: int, sign_device: Path) -> None:
    """INSTALL.md §5's example devices, pointed at the simulators instead of the site's hardware."""
    config = sandbox.path(f"{CONF_D}/10-site.toml")
    config.write_text(
        f"""[[devices]]
kind = "zkteco"
name = "main-door"
host = "127.0.0.1"
port = {zk_port}

[[devices]]
kind = "alpha_sign"
name = "hall-sign"
port = "{sign_device}"
baudrate = 9600
address = "00"
columns = 20
rows = 5
"""
    )
    sandbox.run(f"chown root:mpm-agent {CONF_D}/10-site.toml; chmod 0640 {CONF_D}/10-site.toml")


def get(token: str, path: str, **params: Any) -> Any:
    response = httpx.get(
        f"{API}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def post(token: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    response = httpx.post(
        f"{API}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def online_agent(admin: str) -> str | None:
    agents = get(admin, "/api/v1/agents")
    online = [a["agent_id"] for a in agents if (a.get("last_status") or {}).get("state") == "online"]
    return online[0] if online else None


def prepare_organisation(admin: str) -> None:
    """What docs/API.md shows an administrator doing: a point type, members, attendance rules.

    No display is configured: the sign must show the organisation's default ranking by itself.
    """
    post(admin, "/api/v1/point-types", {"code": "A", "name": "A points"})
    csv = "display_name,legal_name,pin,card,department\nAlice,,1,,\nBob,,2,,\nCarol,,3,,\n"
    response = httpx.post(
        f"{API}/api/v1/members/import",
        content=csv.encode(),
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "text/csv"},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text
    on_time = post(
        admin, "/api/v1/rules", {"category": "attendance", "name": "on time", "point_type": "A", "points": 2}
    )
    late = post(
        admin, "/api/v1/rules", {"category": "attendance", "name": "late", "point_type": "A", "points": -1}
    )
    post(
        admin,
        "/api/v1/attendance-rules",
        {"shift_start": "09:00:00", "on_time_rule_id": on_time["id"], "late_rule_id": late["id"]},
    )


def sign_rows(state_file: Path, name: str) -> str | None:
    rows = [str(line) for line in (read_state(state_file) or {}).get("showing", []) if name in str(line)]
    return rows[0] if rows else None
