"""docs/INSTALL.md's sign programme example loads as written, into the programme it describes."""

from __future__ import annotations

import re
from pathlib import Path

from edge_agent.config import load_config
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.modbus_led.config import ModbusLedConfig

INSTALL = Path(__file__).parents[3] / "docs" / "INSTALL.md"
HEADING = "### Signs: playlist, night mode"
BASE = """agent_id = "site-7"
[mqtt]
url = "mqtt://broker.example.com"
[outbox]
path = "/var/lib/mpm-agent/outbox.db"
"""


def example() -> str:
    section = INSTALL.read_text().split(HEADING, 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the section has exactly one TOML example"
    return str(blocks[0])


def test_the_documented_programme_loads(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(BASE + example())
    hall, canteen = load_config(path).devices
    assert isinstance(hall, AlphaSignConfig)
    assert isinstance(canteen, ModbusLedConfig)
    assert [item.kind for item in hall.programme.playlist] == ["cloud", "clock", "announcement"]
    assert hall.programme.playlist[2].text == "Safety first\nHelmets on"
    assert hall.programme.night[0].mode == "dark"
    assert (canteen.programme.brightness, canteen.programme.night[0].mode) == (12, "dim")
