"""``roster_check`` on the agent: the difference per device, and arguments refused with the reason.

Against real simulated terminals it runs in tests/e2e/test_roster.py."""

from __future__ import annotations

import datetime as dt
import json

from edge_agent.device_commands import Status
from edge_agent.roster_check import RosterCheck, difference
from firmware_protocols.sync import Command


def test_the_difference_names_extra_and_missing_pins_sorted() -> None:
    assert difference(frozenset({"1", "2"}), frozenset({"2", "1"})).status is Status.VERIFIED
    drift = difference(frozenset({"1", "2"}), frozenset({"2", "9", "10"}))
    assert (drift.status, drift.reason) == (Status.DRIFT, "extra=10,9; missing=1")


def _command(args: dict[str, object]) -> Command:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    return Command(cmd_id="c1", expires_at=expires, type="roster_check", args=args)


async def test_bad_arguments_are_refused_and_no_devices_is_an_empty_report() -> None:
    check = RosterCheck({})
    refused = await check.roster_check(_command({"pins": "1"}))
    assert not refused.ok
    assert "pins must be a list" in refused.detail
    bad_pin = await check.roster_check(_command({"pins": ["1", "a b"]}))
    assert not bad_pin.ok
    assert "every pin must match" in bad_pin.detail
    empty = await check.roster_check(_command({"pins": ["1"]}))
    assert empty.ok
    assert json.loads(empty.detail) == {"devices": {}}
