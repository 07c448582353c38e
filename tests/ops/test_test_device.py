"""``mpm-agent test-device NAME --once`` against every simulator, and against broken fixtures."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.cli import main
from simulators.isapi_face import IsapiFaceSimulator
from simulators.zk_terminal import ZkTerminal
from simulators.zk_terminal.threaded import TerminalThread
from tests.simulators.alpha_sign.running import running_sign as running_alpha_sign
from tests.simulators.modbus_sign.running import running_sign as running_modbus_sign
from tests.support.network import free_port

HEAD = 'agent_id = "site-td"\n[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n[outbox]\npath = "{db}"\n'
HEAD += '[observability]\nlisten = "127.0.0.1:{metrics}"\n'


def write_config(tmp_path: Path, device: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(HEAD.format(db=tmp_path / "outbox.db", metrics=free_port()) + "[[devices]]\n" + device)
    return path


def probe(capsys: pytest.CaptureFixture[str], config: Path, name: str, *extra: str) -> tuple[int, list[str]]:
    code = main(["test-device", name, "--once", "--config", str(config), *extra])
    return code, capsys.readouterr().out.splitlines()


def zk_device(port: int, timeout_s: float = 2.0) -> str:
    return f'kind = "zkteco"\nname = "door"\nhost = "127.0.0.1"\nport = {port}\ncomm_key = 7\n' + (
        f"timeout_s = {timeout_s}\n"
    )


def test_zkteco_answers_firmware_serial_and_time(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    port = free_port()
    with TerminalThread(ZkTerminal(port=port, comm_key=7, serial_number="SIMTD0001")):
        code, lines = probe(capsys, write_config(tmp_path, zk_device(port)), "door")
    assert code == 0
    (line,) = lines
    assert line.startswith(f"ok      door (zkteco tcp://127.0.0.1:{port}): firmware=Ver 6.60")
    assert "serial=SIMTD0001" in line
    assert "time=20" in line


def test_unreachable_terminal_is_one_failing_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines = probe(capsys, write_config(tmp_path, zk_device(free_port(), 0.5)), "door")
    assert code == 1
    (line,) = lines
    assert line.startswith("FAIL    door (zkteco tcp://127.0.0.1:")
    assert "DeviceError" in line


def test_wrong_comm_key_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    port = free_port()
    with TerminalThread(ZkTerminal(port=port, comm_key=8)):
        code, lines = probe(capsys, write_config(tmp_path, zk_device(port)), "door")
    assert code == 1
    assert lines[0].startswith("FAIL    door")
    assert "comm key" in lines[0]


def test_json_answer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    port = free_port()
    with TerminalThread(ZkTerminal(port=port, comm_key=7, serial_number="SIMTD0002")):
        code, lines = probe(capsys, write_config(tmp_path, zk_device(port)), "door", "--json")
    body = json.loads(lines[0])
    assert (code, body["ok"], body["kind"], body["answer"]["serial"]) == (0, True, "zkteco", "SIMTD0002")


def test_isapi_device_info(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with IsapiFaceSimulator(username="admin", password="pw-td") as sim:
        device = f'kind = "isapi_face"\nname = "face"\nbase_url = "{sim.url}"\nusername = "admin"\n'
        code, lines = probe(capsys, write_config(tmp_path, device + 'password = "pw-td"\n'), "face")
        assert code == 0
        assert "serial=DS-K1T671M0120240101SIM0001" in lines[0]
        wrong = write_config(tmp_path, device + 'password = "nope"\n')
        code, lines = probe(capsys, wrong, "face")
    assert code == 1
    assert lines[0].startswith("FAIL    face")
    assert "pw-td" not in lines[0]  # no secret in the output


def test_modbus_version_register(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with running_modbus_sign(tmp_path) as sign:
        device = f'kind = "modbus_led"\nname = "points"\nhost = "127.0.0.1"\ntcp_port = {sign.port}\n'
        code, lines = probe(capsys, write_config(tmp_path, device), "points")
    assert code == 0
    assert lines[0].startswith(f"ok      points (modbus_led tcp://127.0.0.1:{sign.port}): unit=1, version=")


def test_alpha_sign_read_special(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with running_alpha_sign(tmp_path) as sign:
        device = f'kind = "alpha_sign"\nname = "lobby"\nport = "{sign.link}"\n'
        code, lines = probe(capsys, write_config(tmp_path, device), "lobby")
    assert code == 0, lines
    assert lines[0].startswith(f"ok      lobby (alpha_sign {sign.link}): memory_files=")


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def adms_device(port: int) -> str:
    return f'kind = "zk_push"\nname = "adms"\nlisten_host = "127.0.0.1"\nlisten_port = {port}\n' + (
        'allowed_serials = ["SN1"]\n'
    )


def test_adms_shows_the_url_when_listening(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, listener: int
) -> None:
    code, lines = probe(capsys, write_config(tmp_path, adms_device(listener)), "adms")
    assert code == 0
    assert f"server_url=http://127.0.0.1:{listener}/iclock/cdata" in lines[0]
    assert "SN1=unknown (agent metrics unreachable)" in lines[0]


def test_adms_not_listening_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines = probe(capsys, write_config(tmp_path, adms_device(free_port())), "adms")
    assert code == 1
    assert lines[0].startswith("FAIL    adms")
    assert "is the agent running?" in lines[0]


def test_unknown_name_and_bad_config_are_one_line_each(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write_config(tmp_path, zk_device(4370))
    code, lines = probe(capsys, config, "nosuch")
    assert (code, len(lines)) == (78, 1)
    assert lines[0].startswith("FAIL    nosuch")
    assert "configured: door" in lines[0]
    config.write_text(config.read_text().replace("port = 4370", "port = 99999"))
    code, lines = probe(capsys, config, "door")
    assert (code, len(lines)) == (78, 1)
    assert lines[0].startswith("FAIL    door (? config):")
