"""AgentConfig and load_config: valid files load; every error names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.config import AgentConfig, ConfigError, load_config
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.zkteco.config import ZkTerminalConfig

VALID = """
agent_id = "site-7"
[mqtt]
url = "mqtts://broker.example.com"
username = "site-7"
[mqtt.tls]
ca_file = "/etc/mpm-agent/ca.pem"
cert_file = "/etc/mpm-agent/agent.pem"
key_file = "/etc/mpm-agent/agent.key"
[outbox]
path = "/var/lib/mpm-agent/outbox.db"
[[devices]]
kind = "zkteco"
name = "door"
host = "192.168.1.201"
[[devices]]
kind = "alpha_sign"
name = "lobby"
port = "/dev/serial/by-id/usb-sign"
"""


def load(tmp_path: Path, text: str) -> AgentConfig:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return load_config(path)


def test_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, VALID)
    assert config.mqtt.uses_tls
    assert config.mqtt.port == 8883
    assert config.mqtt.host == "broker.example.com"
    assert config.mqtt.keepalive_s == 15
    assert config.mqtt.ack_timeout_s == 10
    assert config.outbox.max_bytes == 512 * 1024 * 1024
    assert (config.outbox.batch_size, config.outbox.max_in_flight_batches) == (100, 4)
    assert config.status_interval_s == 10
    assert isinstance(config.devices[0], ZkTerminalConfig)
    assert isinstance(config.devices[1], AlphaSignConfig)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('agent_id = "site-7"', 'agent_id = "Site_7"'), "agent_id"),
        (('url = "mqtts://broker.example.com"', 'url = "http://broker"'), "mqtt.url"),
        (('username = "site-7"', 'username = "site-7"\nkeepalive_s = 60'), "mqtt.keepalive_s"),
        (('key_file = "/etc/mpm-agent/agent.key"', ""), "mqtt.tls"),
        (('name = "lobby"', 'name = "door"'), "devices"),
        (('host = "192.168.1.201"', 'host = "192.168.1.201"\ncolour = "red"'), "devices[0].colour"),
        (('kind = "alpha_sign"', 'kind = "toaster"'), "devices[1]"),
        (("[outbox]", "[outbox]\nbatch_size = 0"), "outbox.batch_size"),
    ],
)
def test_invalid_config_names_file_and_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, VALID.replace(*change))
    message = str(caught.value)
    assert str(tmp_path / "agent.toml") in message
    assert message.startswith(field) or f": {field}:" in message


def test_tls_settings_with_plain_mqtt_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no plaintext fallback"):
        load(tmp_path, VALID.replace("mqtts://", "mqtt://"))


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(tmp_path, "agent_id = ")
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "missing.toml")
