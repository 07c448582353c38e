"""The ``programme`` table of a sign: loads from agent.toml; every mistake names its field."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest

from edge_agent.config import ConfigError, load_config
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.signage import CronWindow
from edge_agent.signage.wiring import programmes
from tests.edge_agent.link.support import RecordingSign

AGENT = """
agent_id = "site-7"
[mqtt]
url = "mqtt://broker.example.com"
[outbox]
path = "/var/lib/mpm-agent/outbox.db"
[[devices]]
kind = "alpha_sign"
name = "lobby"
port = "/dev/serial/by-id/usb-sign"
[devices.programme]
time_zone = "Asia/Shanghai"
offline_after_s = 300
playlist = [
  { kind = "cloud", dwell_s = 20 },
  { kind = "clock", dwell_s = 5 },
  { kind = "announcement", dwell_s = 5, text = "Safety first" },
]
night = [{ start = "0 22 * * *", end = "30 6 * * *", mode = "dark" }]
announcements = [{ start = "0 8 * * mon", end = "0 10 * * mon", text = "Team meeting 9:30" }]
[[devices]]
kind = "modbus_led"
name = "hall"
host = "192.168.1.50"
[devices.programme]
brightness = 12
night = [{ start = "0 22 * * *", end = "30 6 * * *", mode = "dim", brightness = 3 }]
"""


def load(tmp_path: Path, text: str) -> list[object]:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return list(load_config(path).devices)


def test_programmes_load_and_wrap_every_sign(tmp_path: Path) -> None:
    lobby, hall = load(tmp_path, AGENT)
    assert isinstance(lobby, AlphaSignConfig)
    assert isinstance(hall, ModbusLedConfig)
    assert [item.kind for item in lobby.programme.playlist] == ["cloud", "clock", "announcement"]
    assert lobby.programme.night[0].mode == "dark"
    assert (hall.programme.brightness, hall.programme.night[0].brightness) == (12, 3)
    assert hall.programme.offline_after_s == 600  # the default: the marker is on unless tuned
    made = programmes(
        [lobby, hall], {"lobby": RecordingSign(), "hall": RecordingSign()}, link_up=lambda: True
    )
    assert sorted(made) == ["hall", "lobby"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('end = "30 6 * * *", mode = "dark"', 'end = "30 25 * * *", mode = "dark"'), "night[0].end"),
        (('"0 8 * * mon"', '"0 8 * * 1"'), "announcements[0].start"),
        (('time_zone = "Asia/Shanghai"', 'time_zone = "Mars/Olympus"'), "time_zone"),
        (('dwell_s = 5, text = "Safety first"', "dwell_s = 5"), "playlist[2]"),
        (("offline_after_s = 300", "offline_after_s = 0"), "offline_after_s"),
        (("brightness = 12", "brightness = 16"), "brightness"),
        (('mode = "dim"', 'mode = "off"'), "night[0].mode"),
    ],
)
def test_a_bad_programme_names_its_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    assert change[0] in AGENT
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, AGENT.replace(*change, 1))
    assert f"programme.{field}" in str(caught.value)


def test_numeric_weekdays_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="use day names"):
        load(tmp_path, AGENT.replace('"0 8 * * mon"', '"0 8 * * 1-5"'))


def test_a_window_across_midnight_and_a_weekly_one() -> None:
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    night = CronWindow("0 22 * * *", "30 6 * * *", zone)

    def at(hour: int, minute: int, day: int = 3) -> dt.datetime:
        return dt.datetime(2026, 12, day, hour, minute, tzinfo=zone)

    assert [night.is_open(at(*hm)) for hm in [(21, 59), (22, 0), (3, 0), (6, 29), (6, 30)]] == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert night.next_change(at(21, 59)) == at(22, 0)
    meeting = CronWindow("0 8 * * mon", "0 10 * * mon", zone)  # 2026-12-07 is a Monday
    assert not meeting.is_open(at(9, 0, day=3))  # a Thursday
    assert meeting.opened_at(at(9, 0, day=7)) == at(8, 0, day=7)
    assert not meeting.is_open(at(10, 0, day=7))
