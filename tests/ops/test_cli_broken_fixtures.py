"""Issue 6's broken fixtures through the REAL ``mpm-agent`` console script, one table row each.

Every row builds a broken fixture and its healthy control, runs the installed console script in a
subprocess, and asserts: broken → exactly one failing line and a non-zero exit; control → no failing
line and exit 0. Fixture builders come from tests/ops/test_doctor.py and test_test_device.py.

Access to a serial port is decided by the kernel, not predicted: ``doctor`` opens the port itself, so
its wrong-group row runs the console script as root with every capability dropped (``setpriv
--bounding-set=-all``): without CAP_DAC_OVERRIDE root is checked like the service user, owner bits then
group bits then other bits. The venv's interpreter lives under /root, so running as ``nobody`` is not
possible here; a capability-less root with supplementary group dialout is the same permission check
as ``User=mpm-agent`` + ``SupplementaryGroups=dialout``. ``ports`` judges the service user's access from
the node's owner/group/mode (proven against the kernel in test_ports.py); it is asked about ``nobody``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simulators.zk_terminal import ZkTerminal
from simulators.zk_terminal.threaded import TerminalThread
from tests.ops.test_doctor import (  # noqa: F401 - pki, tls_broker, true_time and tty are fixtures
    AGENT,
    DIALOUT,
    NOBODY,
    Pki,
    pki,
    time_server,
    tls_broker,
    tls_section,
    true_time,
    tty,
    write_config,
)
from tests.ops.test_test_device import write_config as write_device_config
from tests.ops.test_test_device import zk_device
from tests.support.broker import Broker
from tests.support.network import free_port

MPM_AGENT = str(Path(sys.executable).with_name("mpm-agent"))  # the console script pip installed
NOGROUP = 65534
NO_CAPABILITIES = ["setpriv", f"--groups={DIALOUT}", "--bounding-set=-all", "--inh-caps=-all", "--"]


@dataclass
class Run:
    """One invocation of the console script."""

    argv: list[str]
    prefix: list[str] = field(default_factory=list)


@dataclass
class Site:
    """What a row's builder may use: a private directory, the test's fixtures, contexts to close."""

    tmp: Path
    request: pytest.FixtureRequest
    stack: contextlib.ExitStack

    def fixture(self, name: str) -> object:
        return self.request.getfixturevalue(name)

    def broker_url(self) -> str:
        broker = self.fixture("broker")
        assert isinstance(broker, Broker)
        return broker.url

    def true_time(self) -> str:
        return str(self.fixture("true_time"))

    def tty(self) -> str:
        return str(self.fixture("tty"))


def doctor_args(config: Path, reference: str) -> list[str]:
    return ["doctor", "--config", str(config), "--time-reference", reference, "--min-free-mib", "1"]


# --- builders: (site, broken) -> the invocation ----------------------------------------------------


def doctor_wrong_group(site: Site, broken: bool) -> Run:
    port = site.tty()
    os.chown(port, NOBODY, NOGROUP if broken else DIALOUT)  # not ours by owner: the group decides
    device = f'[[devices]]\nkind = "alpha_sign"\nname = "lobby"\nport = "{port}"\n'
    config = write_config(site.tmp, site.broker_url(), extra=device)
    return Run(doctor_args(config, site.true_time()), prefix=NO_CAPABILITIES)


def doctor_expired_certificate(site: Site, broken: bool) -> Run:
    authority = site.fixture("pki")
    broker = site.fixture("tls_broker")
    assert isinstance(authority, Pki)
    assert isinstance(broker, Broker)
    client = authority.issue(AGENT, days=(-400, -2) if broken else (-1, 200))
    url = f"mqtts://127.0.0.1:{broker.port}"
    config = write_config(site.tmp, url, tls=tls_section(authority, client))
    return Run(doctor_args(config, site.true_time()))


def doctor_skewed_clock(site: Site, broken: bool) -> Run:
    offset = dt.timedelta(minutes=10 if broken else 0)
    reference = site.stack.enter_context(time_server(offset))
    return Run(doctor_args(write_config(site.tmp, site.broker_url()), reference))


def doctor_unreachable_broker(site: Site, broken: bool) -> Run:
    url = f"mqtt://127.0.0.1:{free_port()}" if broken else site.broker_url()
    return Run(doctor_args(write_config(site.tmp, url), site.true_time()))


def bad_config(site: Site, broken: bool) -> Path:
    config = write_config(site.tmp, "mqtt://127.0.0.1:1883")
    if broken:
        config.write_text(config.read_text().replace("[mqtt]\n", "[mqtt]\nkeepalive_s = 31\n"))
    return config


def doctor_bad_config(site: Site, broken: bool) -> Run:
    if not broken:  # the control needs a broker that answers
        return doctor_unreachable_broker(site, broken=False)
    return Run(doctor_args(bad_config(site, broken), site.true_time()))


def ports_wrong_group(site: Site, broken: bool) -> Run:
    port = site.tty()
    os.chown(port, 0, 0 if broken else DIALOUT)  # root:root 0660 is what a missing udev rule leaves
    device = f'[[devices]]\nkind = "alpha_sign"\nname = "lobby"\nport = "{port}"\n'
    config = write_config(site.tmp, "mqtt://127.0.0.1:1883", extra=device)
    return Run(["ports", "--config", str(config), "--service-user", "nobody"])


def config_validate_bad_config(site: Site, broken: bool) -> Run:
    return Run(["config", "validate", "--config", str(bad_config(site, broken))])


def device_unreachable(site: Site, broken: bool) -> Run:
    port = free_port()
    if not broken:
        site.stack.enter_context(TerminalThread(ZkTerminal(port=port, comm_key=7)))
    config = write_device_config(site.tmp, zk_device(port, 0.5))
    return Run(["test-device", "door", "--once", "--config", str(config)])


# --- what counts as a failing line -----------------------------------------------------------------


def fail_lines(lines: list[str]) -> list[str]:
    """doctor, ports, test-device: ``FAIL    name: why``."""
    return [line for line in lines if line.startswith("FAIL")]


def problem_lines(lines: list[str]) -> list[str]:
    """config validate: an ``INVALID (n problem(s))`` header, then one indented line per problem."""
    return [line for line in lines if line.startswith("  ")]


@dataclass(frozen=True)
class Row:
    build: Callable[[Site, bool], Run]
    exit_code: int
    failing: Callable[[list[str]], list[str]]
    says: str  # the start of the one failing line


NOT_OPENABLE = "cannot open read/write: Permission denied"
ROWS: dict[str, Row] = {
    "doctor/wrong group": Row(doctor_wrong_group, 1, fail_lines, "FAIL    serial port /dev/pts/"),
    "doctor/expired certificate": Row(
        doctor_expired_certificate, 1, fail_lines, "FAIL    tls: client certificate expired on"
    ),
    "doctor/skewed clock": Row(doctor_skewed_clock, 1, fail_lines, "FAIL    clock: skewed -"),
    "doctor/unreachable broker": Row(doctor_unreachable_broker, 1, fail_lines, "FAIL    broker: "),
    "doctor/bad config": Row(doctor_bad_config, 1, fail_lines, "FAIL    config: mqtt.keepalive_s"),
    "ports/wrong group": Row(ports_wrong_group, 1, fail_lines, "FAIL    serial port /dev/pts/"),
    "config validate/bad config": Row(config_validate_bad_config, 78, problem_lines, "  mqtt.keepalive_s"),
    "test-device/unreachable device": Row(
        device_unreachable, 1, fail_lines, "FAIL    door (zkteco tcp://127.0.0.1:"
    ),
}


def run_cli(run: Run) -> tuple[int, list[str]]:
    result = subprocess.run(
        [*run.prefix, MPM_AGENT, *run.argv], capture_output=True, text=True, timeout=60, check=False
    )
    return result.returncode, result.stdout.splitlines()


@pytest.fixture
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    with contextlib.ExitStack() as stack:
        yield Site(tmp=tmp_path, request=request, stack=stack)


@pytest.mark.parametrize("name", list(ROWS))
def test_broken_fixture_fails_one_line_and_its_control_passes(site: Site, name: str) -> None:
    row = ROWS[name]
    control_code, control = run_cli(row.build(site, False))
    assert (control_code, row.failing(control)) == (0, []), control
    code, lines = run_cli(row.build(site, True))
    assert code == row.exit_code, lines
    (line,) = row.failing(lines)
    assert line.startswith(row.says), lines


def test_the_wrong_group_rows_fail_for_the_permission(site: Site) -> None:
    _, doctor = run_cli(doctor_wrong_group(site, True))
    assert NOT_OPENABLE in fail_lines(doctor)[0]
    _, ports = run_cli(ports_wrong_group(site, True))
    assert "nobody cannot open read/write (root:root 0660)" in fail_lines(ports)[0]


def test_config_validate_names_the_one_problem(site: Site) -> None:
    code, lines = run_cli(config_validate_bad_config(site, True))
    assert code == 78
    assert lines[0].endswith(": INVALID (1 problem(s))")
    assert len(lines) == 2


def test_ports_missing_configured_port_and_bad_config(site: Site) -> None:
    device = '[[devices]]\nkind = "alpha_sign"\nname = "lobby"\nport = "/dev/mpm-test-no-such-port"\n'
    config = write_config(site.tmp, "mqtt://127.0.0.1:1883", extra=device)
    code, lines = run_cli(Run(["ports", "--config", str(config), "--service-user", "nobody"]))
    assert code == 1
    (line,) = fail_lines(lines)
    assert line.startswith("FAIL    serial port /dev/mpm-test-no-such-port: does not exist")
    code, lines = run_cli(Run(["ports", "--config", str(bad_config(site, True))]))
    assert code == 78
    assert lines == [line for line in lines if line.startswith("FAIL    config: mqtt.keepalive_s")]
    assert len(lines) == 1


def test_ports_without_the_service_user_judges_by_a_real_open(site: Site) -> None:
    port = site.tty()
    device = f'[[devices]]\nkind = "alpha_sign"\nname = "lobby"\nport = "{port}"\n'
    config = write_config(site.tmp, "mqtt://127.0.0.1:1883", extra=device)
    code, lines = run_cli(Run(["ports", "--config", str(config), "--service-user", "mpm-test-no-user"]))
    assert (code, fail_lines(lines)) == (0, [])
    assert f"ok      serial port {port}: configured; you can (service user missing) open it" in lines
