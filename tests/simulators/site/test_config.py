"""Site files: every problem is named by device and field; what a valid file turns into."""

from __future__ import annotations

import argparse
import importlib
import json
import tomllib
from pathlib import Path

import pytest

from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from simulators.cli import SIMULATORS
from simulators.site import SiteConfigError, load_site, validate_site
from simulators.site.agent_inventory import agent_devices, render_toml
from simulators.site.config import Device, ZkPushDevice, ZkTerminalDevice
from simulators.site.launch import plan_launch
from simulators.site.layout import SiteLayout
from simulators.site.resolve import resolve_site
from simulators.site.runner import RunOptions, prepare_state_dir, run_site
from simulators.zk_push.state import user_from_json
from simulators.zk_terminal.model import load_users
from tests.simulators.site.agent_models import validated_inventory

EXAMPLE = Path(__file__).parents[3] / "simulators" / "site.example.toml"
DOOR = 'kind = "zk-terminal"\nname = "door"\n'


def problems(text: str) -> str:
    """The error message for a site file, which must not validate."""
    with pytest.raises(SiteConfigError) as caught:
        validate_site(tomllib.loads(text), source="site.toml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ('name = "door"', 'site.toml: device "door": kind: Unable to extract tag'),
        ('kind = "fax"\nname = "door"', "device \"door\" (fax): kind: Input tag 'fax'"),
        (DOOR + 'colour = "red"', 'device "door" (zk-terminal): colour: Extra inputs are not permitted'),
        (DOOR + 'port = "x"', 'device "door" (zk-terminal): port: Input should be a valid integer'),
        (DOOR + "port = 70000", 'device "door" (zk-terminal): port: Input should be less than or equal'),
        (DOOR + 'timezone = "Mars/Base"', 'device "door" (zk-terminal): timezone: Value error, unknown IANA'),
        (DOOR + 'encoding = "klingon"', 'device "door" (zk-terminal): encoding: Value error, unknown text'),
        (DOOR + 'fault = "explode:1"', 'device "door" (zk-terminal): fault: String should match'),
        ('kind = "zk-terminal"\nname = "Door!"', 'device "Door!" (zk-terminal): name: String should match'),
        ('kind = "zk-terminal"\nname = "site"', "device \"site\" (zk-terminal): name: Value error, 'site'"),
        ('kind = "isapi-face"\nname = "face"', 'device "face" (isapi-face): password: Field required'),
        (
            'kind = "zk-push"\nname = "push"\nsn = "A1"\nserver = "ftp://x"',
            'device "push" (zk-push): server: String should match',
        ),
        (
            'kind = "alpha-sign"\nname = "sign"\npty = "a"\nserial = "/dev/ttyS0"',
            'device "sign" (alpha-sign): (device): Value error, give exactly one of pty or serial',
        ),
        (
            'kind = "modbus-sign"\nname = "board"\ntcp = "127.0.0.1:0"\nprofile = "nope"',
            "device \"board\" (modbus-sign): (device): Value error, profile 'nope' is not one of",
        ),
        ('kind = "zk-terminal"', "device #1 (unnamed) (zk-terminal): name: Field required"),
    ],
)
def test_a_bad_device_is_named_with_its_field(device: str, expected: str) -> None:
    assert expected in problems(f"[[device]]\n{device}\n")


@pytest.mark.parametrize(
    ("devices", "expected"),
    [
        ([DOOR, DOOR], 'device "door" (zk-terminal): name: \'door\' is already used by device "door"'),
        (
            [DOOR + "port = 5000", 'kind = "isapi-face"\nname = "face"\npassword = "p"\nport = 5000'],
            'device "face" (isapi-face): port: (\'127.0.0.1\', 5000) is already used by device "door"',
        ),
        (
            ['kind = "alpha-sign"\nname = "a"\npty = "tty"', 'kind = "modbus-sign"\nname = "b"\npty = "tty"'],
            'device "b" (modbus-sign): pty: PosixPath(\'tty\') is already used by device "a"',
        ),
        (
            [
                'kind = "zk-push"\nname = "p1"\nsn = "A1"\nserver = "http://127.0.0.1:8081"',
                'kind = "zk-push"\nname = "p2"\nsn = "A1"\nserver = "http://127.0.0.1:8081"',
            ],
            'device "p2" (zk-push): sn: \'A1\' is already used by device "p1"',
        ),
        (
            [
                'kind = "zk-push"\nname = "p1"\nsn = "A1"\nserver = "http://127.0.0.1:8081"',
                'kind = "zk-push"\nname = "p2"\nsn = "A2"\nserver = "http://127.0.0.1:9000"',
            ],
            "device \"p2\" (zk-push): server: listener 'adms' serves http://127.0.0.1:8081",
        ),
    ],
)
def test_a_clash_between_devices_names_the_later_device(devices: list[str], expected: str) -> None:
    assert expected in problems("".join(f"[[device]]\n{device}\n" for device in devices))


def test_every_problem_is_reported_not_only_the_first() -> None:
    message = problems(f'[[device]]\n{DOOR}port = "x"\n[[device]]\nkind = "isapi-face"\nname = "face"\n')
    assert len(message.splitlines()) == 2
    assert 'device "door"' in message
    assert 'device "face"' in message


def test_a_site_needs_devices_and_unique_user_pins() -> None:
    assert "site.toml: device: Field required" in problems('[[user]]\npin = "1"\n')
    assert "user: pin '1' is used twice" in problems(
        f'[[user]]\npin="1"\n[[user]]\npin="1"\n[[device]]\n{DOOR}'
    )


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[device]\n", encoding="utf-8")
    with pytest.raises(SiteConfigError, match=r"broken\.toml: not valid TOML"):
        load_site(path)


def test_an_invalid_site_starts_nothing_and_exits_78(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(f"[[device]]\n{DOOR}bogus = 1\n", encoding="utf-8")
    assert run_site(RunOptions(config=path, state_dir=tmp_path / "state")) == 78
    assert not (tmp_path / "state").exists()


def _example_devices(tmp_path: Path) -> tuple[SiteLayout, list[Device]]:
    site = load_site(EXAMPLE)
    layout = SiteLayout(state_dir=tmp_path, config_dir=EXAMPLE.parent)
    prepare_state_dir(site, layout, source=str(EXAMPLE))
    return layout, resolve_site(site, layout)


def test_the_example_site_has_the_promised_devices() -> None:
    site = load_site(EXAMPLE)
    kinds = sorted(device.kind for device in site.device)
    assert kinds == ["alpha-sign", "isapi-face", "modbus-sign", "zk-push", "zk-terminal"]
    assert any("\u4e00" <= char <= "\u9fff" for user in site.user for char in user.name)


def test_the_example_inventory_validates_against_the_agent_models(tmp_path: Path) -> None:
    layout, devices = _example_devices(tmp_path)
    layout.agent_devices.write_text(render_toml(agent_devices(devices), source="x"), encoding="utf-8")
    inventory = validated_inventory(layout.agent_devices)
    assert isinstance(inventory["front-door"], ZkTerminalConfig)
    assert inventory["front-door"].port == 4370
    assert inventory["front-door"].encoding == "gbk"
    assert isinstance(inventory["adms"], ZkPushConfig)
    assert (inventory["adms"].listen_port, inventory["adms"].allowed_serials) == (8081, ("SIMBACK00001",))
    assert isinstance(inventory["face-gate"], IsapiFaceConfig)
    assert isinstance(inventory["lobby-sign"], AlphaSignConfig)
    assert inventory["lobby-sign"].port == str(tmp_path / "lobby-tty")
    board = inventory["hall-board"]
    assert isinstance(board, ModbusLedConfig)
    assert board.host == "127.0.0.1"
    assert board.tcp_port > 0


def test_every_command_line_is_accepted_by_its_simulator(tmp_path: Path) -> None:
    _, devices = _example_devices(tmp_path)
    for device in devices:
        launch = plan_launch(device, SiteLayout(state_dir=tmp_path, config_dir=tmp_path))
        kind_at = launch.argv.index(launch.kind)
        parser = argparse.ArgumentParser(exit_on_error=False)
        importlib.import_module(SIMULATORS[launch.kind][0]).add_arguments(parser)
        args = parser.parse_args(launch.argv[kind_at + 1 :])
        assert args.state == tmp_path / f"{launch.name}.json"


def test_one_users_file_is_read_by_both_terminal_simulators(tmp_path: Path) -> None:
    layout, devices = _example_devices(tmp_path)
    terminals = [d for d in devices if isinstance(d, ZkTerminalDevice | ZkPushDevice)]
    assert len(terminals) == 2
    assert {d.users for d in terminals} == {layout.users}
    pulled = {user.user_id: user.name for user in load_users(layout.users)}
    raw = json.loads(layout.users.read_text(encoding="utf-8"))
    pushed = {user.pin: user.name for user in map(user_from_json, raw)}
    assert pulled == pushed
    assert pulled["1001"] == "张伟"


def test_terminals_pushing_to_one_listener_share_an_agent_entry_and_a_picked_port(tmp_path: Path) -> None:
    text = "".join(
        f'[[device]]\nkind = "zk-push"\nname = "p{n}"\nsn = "SN{n}"\nserver = "http://127.0.0.1:0"\n'
        for n in (1, 2)
    )
    site = validate_site(tomllib.loads(text), source="site.toml")
    devices = resolve_site(site, SiteLayout(state_dir=tmp_path, config_dir=tmp_path))
    (server,) = {device.server for device in devices if isinstance(device, ZkPushDevice)}
    assert not server.endswith(":0")
    (entry,) = agent_devices(devices)
    assert ZkPushConfig.model_validate(entry).allowed_serials == ("SN1", "SN2")


def test_toml_rendering_survives_chinese_and_escapes() -> None:
    entry = {"kind": "x", "name": '张三 "q" \\ \n', "n": 1, "f": 0.5, "b": True, "l": ["a", "b"]}
    assert tomllib.loads(render_toml([entry], source="s"))["devices"] == [entry]
