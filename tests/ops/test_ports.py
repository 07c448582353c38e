"""Serial port listing: permission logic on real ptys, by-id resolution on real symlinks."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.ops.ports import (
    can_read_write,
    links_to,
    list_ports,
    port_info,
    render_json,
    render_text,
    service_groups,
)

NOBODY = 65534
DIALOUT = 20
PROBE_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@pytest.fixture
def tty() -> Iterator[str]:
    """A real pty slave, group dialout, mode 0660: what the udev rule makes of a USB adapter."""
    master, slave = pty.openpty()
    path = os.ttyname(slave)
    os.chown(path, 0, DIALOUT)
    os.chmod(path, 0o660)
    yield path
    os.close(slave)
    os.close(master)


def really_opens(path: str, groups: list[int]) -> bool:
    """Ask the kernel: can a process running as nobody with these supplementary groups open it rw?"""
    probe = f"import os; os.close(os.open({path!r}, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK))"
    result = subprocess.run(
        [PROBE_PYTHON, "-c", probe],
        user=NOBODY,
        group=NOBODY,
        extra_groups=groups,
        capture_output=True,
        timeout=30,
    )
    return result.returncode == 0


@pytest.mark.parametrize(
    ("mode", "groups"),
    [(0o660, [DIALOUT]), (0o660, []), (0o600, [DIALOUT]), (0o666, []), (0o640, [DIALOUT])],
)
def test_permission_prediction_matches_the_kernel(tty: str, mode: int, groups: list[int]) -> None:
    os.chmod(tty, mode)
    predicted = can_read_write(os.stat(tty), NOBODY, {NOBODY, *groups})
    assert predicted == really_opens(tty, groups)


def test_control_the_group_decides_access(tty: str) -> None:
    assert really_opens(tty, [DIALOUT]) is True
    assert really_opens(tty, []) is False


def test_port_info_reports_group_mode_and_service_access(tty: str) -> None:
    info = port_info(tty, by_id_root=Path("/nonexistent"), service=(NOBODY, {NOBODY, DIALOUT}))
    assert (info.group, info.mode, info.service_can_open, info.you_can_open) == (
        "dialout",
        "0660",
        True,
        True,
    )
    locked_out = port_info(tty, by_id_root=Path("/nonexistent"), service=(NOBODY, {NOBODY}))
    assert locked_out.service_can_open is False
    assert "mpm-agent cannot open it" in render_text([locked_out])


def test_by_id_links_are_resolved_through_real_symlinks(tmp_path: Path, tty: str) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0").symlink_to(tty)
    (tmp_path / "hop").symlink_to(tty)
    (by_id / "usb-via-a-second-link").symlink_to(tmp_path / "hop")
    (by_id / "usb-someone-else").symlink_to("/dev/null")
    (by_id / "dangling").symlink_to(tmp_path / "gone")
    assert links_to(tty, by_id) == (
        str(by_id / "usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0"),
        str(by_id / "usb-via-a-second-link"),
    )
    info = port_info(tty, by_id_root=by_id, by_path_root=tmp_path / "absent")
    assert info.by_id == links_to(tty, by_id)
    assert info.by_path == ()
    listed = json.loads(render_json([info]))
    assert listed[0]["by_id"][0].endswith("A10K1234-if00-port0")
    assert listed[0]["mode"] == "0660"
    assert f"  by-id:   {by_id}/usb-FTDI" in render_text([info])


def test_service_groups_include_the_unit_supplementary_groups() -> None:
    found = service_groups("nobody", ["dialout"])
    assert found is not None
    assert found[0] == NOBODY
    assert {NOBODY, DIALOUT} <= found[1]
    assert service_groups("mpm-test-no-such-user") is None


def test_list_ports_on_this_machine() -> None:
    ports = list_ports(service_user="nobody")
    assert all(os.path.exists(port.device) for port in ports)
    assert render_text(ports).endswith("\n")
