"""Device times that overflow on conversion to UTC are the codec's error (ISAPI) or an unreadable time
(ADMS: the punch is kept, flagged ``clock_suspect``), never an ``OverflowError`` out of a driver."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from edge_agent.drivers.zk_push.punches import local_to_utc
from firmware_protocols.isapi import IsapiProtocolError
from firmware_protocols.isapi.acs_event import parse_time

SHANGHAI, NEW_YORK = zoneinfo.ZoneInfo("Asia/Shanghai"), zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.parametrize("raw", ["9999-12-31T23:59:00-14:00", "0001-01-01T00:00:00+14:00"])
def test_isapi_time_overflowing_utc_is_a_protocol_error(raw: str) -> None:
    with pytest.raises(IsapiProtocolError, match="out of range"):
        parse_time(raw)
    assert parse_time("9999-12-31T00:00:00+14:00") == dt.datetime(9999, 12, 30, 10, tzinfo=dt.UTC)  # control


@pytest.mark.parametrize(
    ("text", "zone"), [("0001-01-01 00:00:00", SHANGHAI), ("9999-12-31 23:59:59", NEW_YORK)]
)
def test_adms_time_overflowing_utc_reads_as_no_time(text: str, zone: zoneinfo.ZoneInfo) -> None:
    assert local_to_utc(text, zone) is None
    assert local_to_utc("2026-11-02 08:00:00", zone) is not None  # control
