"""Layered configuration: files, conf.d, MPM_AGENT_* env and --set flags, with sources and suggestions."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from edge_agent.config import AgentConfig
from edge_agent.ops.config_commands import render_effective, show_command, validate_command
from edge_agent.settings_layers import EX_CONFIG, ConfigError, load_layered, parse_value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Mqtt(_Strict):
    url: str
    keepalive_s: int = 15
    password: str | None = None


class Sign(_Strict):
    kind: Literal["sign"]
    name: str
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"  # a second Literal field must not confuse the union walk


class Door(_Strict):
    kind: Literal["door"]
    name: str
    host: str


class Small(_Strict):
    agent_id: str
    mqtt: Mqtt
    interval_s: float = 10.0
    devices: list[Annotated[Sign | Door, Field(discriminator="kind")]] = []


MAIN = """\
agent_id = "site-1"

[mqtt]
url = "mqtt://main:1883"
keepalive_s = 20

[[devices]]
kind = "sign"
name = "hall"

[[devices]]
kind = "door"
name = "gate"
host = "10.0.0.5"
"""


@pytest.fixture
def main_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(MAIN)
    (tmp_path / "conf.d").mkdir()
    return path


def conf_d(main_file: Path, name: str, text: str) -> None:
    (main_file.parent / "conf.d" / name).write_text(text)


def problems(
    main_file: Path, env: dict[str, str] | None = None, flags: tuple[str, ...] = ()
) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        load_layered(Small, main_file, env or {}, flags)
    return caught.value.problems


def test_layers_apply_in_order_and_remember_their_source(main_file: Path) -> None:
    conf_d(main_file, "20-late.toml", '[mqtt]\nurl = "mqtt://twenty:1883"\n')
    conf_d(main_file, "10-early.toml", '[mqtt]\nurl = "mqtt://ten:1883"\nkeepalive_s = 25\n')
    env = {"MPM_AGENT_INTERVAL_S": "2.5", "MPM_AGENT_DEVICES__0__BAUDRATE": "19200", "OTHER": "x"}
    config, sources = load_layered(Small, main_file, env, ["mqtt.keepalive_s=30"])
    assert config.mqtt.url == "mqtt://twenty:1883"
    assert config.mqtt.keepalive_s == 30
    assert config.interval_s == 2.5
    assert isinstance(config.devices[0], Sign)
    assert config.devices[0].baudrate == 19200
    assert str(sources["agent_id"]) == f"{main_file}:1"
    assert str(sources["mqtt.url"]) == f"{main_file.parent / 'conf.d' / '20-late.toml'}:2"
    assert str(sources["mqtt.keepalive_s"]) == "flag --set mqtt.keepalive_s=30"
    assert str(sources["interval_s"]) == "env MPM_AGENT_INTERVAL_S"
    assert str(sources["devices[1].host"]) == f"{main_file}:14"


def test_a_later_layer_replaces_a_list_whole(main_file: Path) -> None:
    conf_d(main_file, "10-devices.toml", '[[devices]]\nkind = "door"\nname = "back"\nhost = "10.0.0.9"\n')
    config, sources = load_layered(Small, main_file, {}, [])
    assert [device.name for device in config.devices] == ["back"]
    assert "devices[1].host" not in sources


@pytest.mark.parametrize(
    ("env", "flags", "expected"),
    [
        (
            {"MPM_AGENT_MQTT__URLL": "x"},
            (),
            "MPM_AGENT_MQTT__URLL: unknown setting; did you mean MPM_AGENT_MQTT__URL?",
        ),
        (
            {"MPM_AGENT_INTERVAL": "1"},
            (),
            "MPM_AGENT_INTERVAL: unknown setting; did you mean MPM_AGENT_INTERVAL_S?",
        ),
        ({"MPM_AGENT_DEVICES__0__BAUD": "1"}, (), "did you mean MPM_AGENT_DEVICES__0__BAUDRATE?"),
        (
            {},
            ("mqtt.keepalive=5",),
            "--set mqtt.keepalive=5: unknown setting; did you mean mqtt.keepalive_s?",
        ),
        ({}, ("devices[1].hots=x",), "did you mean devices[1].host?"),
        (
            {"MPM_AGENT_DEVICES__7__NAME": "x"},
            (),
            "MPM_AGENT_DEVICES__7__NAME: devices[7]: no such list element",
        ),
        ({"MPM_AGENT_MQTT__URL__X": "x"}, (), "MPM_AGENT_MQTT__URL__X: is a single value, not a table"),
        ({}, ("no-equals-sign",), "expected KEY=VALUE"),
    ],
)
def test_unknown_env_and_flag_keys_are_errors_with_a_suggestion(
    main_file: Path, env: dict[str, str], flags: tuple[str, ...], expected: str
) -> None:
    assert any(expected in problem for problem in problems(main_file, env, flags))


def test_unknown_file_keys_name_file_line_and_suggest(main_file: Path) -> None:
    conf_d(main_file, "50-typo.toml", '\n[mqtt]\nkeepalive = 5\n\n[[devices]]\nkind = "sign"\nnmae = "x"\n')
    found = problems(main_file)
    where = main_file.parent / "conf.d" / "50-typo.toml"
    assert f"{where}:3: mqtt.keepalive: unknown setting; did you mean mqtt.keepalive_s?" in found
    assert f"{where}:7: devices[0].nmae: unknown setting; did you mean devices[0].name?" in found


def test_control_the_same_keys_spelled_right_load(main_file: Path) -> None:
    env = {"MPM_AGENT_MQTT__URL": "mqtt://env:1883", "MPM_AGENT_INTERVAL_S": "1"}
    config, _ = load_layered(Small, main_file, env, ["mqtt.keepalive_s=5", "devices[1].host=h"])
    assert (config.mqtt.url, config.mqtt.keepalive_s, config.interval_s) == ("mqtt://env:1883", 5, 1.0)


def test_validation_errors_name_the_field_and_its_source(main_file: Path) -> None:
    conf_d(main_file, "10-bad.toml", '[mqtt]\nkeepalive_s = "often"\n')
    found = problems(main_file, {"MPM_AGENT_DEVICES__0__BAUDRATE": "fast"})
    where = main_file.parent / "conf.d" / "10-bad.toml"
    assert any(
        p.startswith("mqtt.keepalive_s: Input should be a valid integer") and f"(from {where}:2)" in p
        for p in found
    )
    assert any(
        p.startswith("devices[0].baudrate:") and "(from env MPM_AGENT_DEVICES__0__BAUDRATE)" in p
        for p in found
    )


def test_a_missing_required_field_says_it_was_set_nowhere(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('[mqtt]\nurl = "mqtt://x"\n')
    assert any(p.startswith("agent_id: Field required (not set in") for p in problems(path))


def test_missing_file_and_bad_toml_are_config_errors(tmp_path: Path) -> None:
    assert "configuration file not found" in problems(tmp_path / "absent.toml")[0]
    (tmp_path / "agent.toml").write_text("agent_id = \n")
    assert "not valid TOML" in problems(tmp_path / "agent.toml")[0]


def test_values_are_parsed_as_toml_then_as_strings() -> None:
    assert parse_value("true") is True
    assert parse_value("10") == 10
    assert parse_value('"10"') == "10"
    assert parse_value("mqtt://host:1883") == "mqtt://host:1883"
    assert parse_value("2024-01-01") == "2024-01-01"  # TOML dates stay text


def test_show_renders_toml_with_sources_and_masks_secrets(main_file: Path) -> None:
    out = io.StringIO()
    code = show_command(Small, main_file, {"MPM_AGENT_MQTT__PASSWORD": "hunter2"}, ["interval_s=3"], out)
    text = out.getvalue()
    assert code == 0
    assert 'url = "mqtt://main:1883"  # from ' + f"{main_file}:4" in text
    assert "interval_s = 3.0  # from flag --set interval_s=3" in text
    assert "baudrate = 9600  # default" in text
    assert "hunter2" not in text
    assert 'password = "********"  # from env MPM_AGENT_MQTT__PASSWORD' in text
    uncommented = "\n".join(line.split("  #")[0] for line in text.splitlines() if not line.startswith("#"))
    assert tomllib.loads(uncommented)["devices"][1]["host"] == "10.0.0.5"


def test_validate_exits_0_or_78(main_file: Path) -> None:
    out = io.StringIO()
    assert validate_command(Small, main_file, {}, [], out) == 0
    assert "OK (8 values from files, 0 from environment, 0 from flags)" in out.getvalue()
    out = io.StringIO()
    assert validate_command(Small, main_file, {"MPM_AGENT_MQTT__URLL": "x"}, [], out) == EX_CONFIG
    assert "INVALID (1 problem(s))" in out.getvalue()


AGENT_TOML = """\
agent_id = "site-1"

[mqtt]
url = "mqtt://localhost:1883"

[outbox]
path = "/var/lib/mpm-agent/outbox.db"

[[devices]]
kind = "zkteco"
name = "door"
host = "192.168.1.20"

[[devices]]
kind = "alpha_sign"
name = "hall-sign"
port = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0"
"""


def test_with_the_real_agent_config(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(AGENT_TOML)
    env = {"MPM_AGENT_MQTT__URL": "mqtts://cloud.example:8883", "MPM_AGENT_DEVICES__1__BAUDRATE": "19200"}
    config, sources = load_layered(AgentConfig, path, env, ["outbox.batch_size=50"])
    assert config.mqtt.port == 8883
    assert config.outbox.batch_size == 50
    assert str(sources["devices[1].baudrate"]) == "env MPM_AGENT_DEVICES__1__BAUDRATE"
    with pytest.raises(ConfigError) as caught:
        load_layered(AgentConfig, path, {"MPM_AGENT_DEVICES__0__COMMKEY": "1"}, [])
    assert caught.value.problems == (
        "MPM_AGENT_DEVICES__0__COMMKEY: unknown setting; did you mean MPM_AGENT_DEVICES__0__COMM_KEY?",
    )
    with pytest.raises(ConfigError) as caught:
        load_layered(AgentConfig, path, {}, ["devices[1].address=XYZ"])
    assert caught.value.problems[0].startswith("devices[1].address: String should match pattern")
    assert caught.value.problems[0].endswith("(from flag --set devices[1].address=XYZ)")
    assert "# from env MPM_AGENT_MQTT__URL" in render_effective(config, sources)
