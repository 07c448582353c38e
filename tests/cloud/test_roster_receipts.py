"""Receipts as a table: the agent's per-device report (and an ADMS terminal's own result) → device steps,
and a change's steps combined into one state per device."""

from __future__ import annotations

import json

import pytest

from cloud.db.models import DeviceState
from cloud.roster.receipts import ANY_DEVICE, Result, Step, combine, device_steps
from cloud.roster.reconcile import parse_report

V, Q, P, F = DeviceState.VERIFIED, DeviceState.QUEUED, DeviceState.PENDING, DeviceState.FAILED


def agent(devices: dict[str, str], ok: bool = True) -> Result:
    return Result(device="@agent", ok=ok, detail=json.dumps({"devices": devices}))


@pytest.mark.parametrize(
    ("report", "own", "expected"),
    [
        ({"zk": "verified"}, {}, {"zk": Step(state=V)}),
        ({"adms:1": "queued"}, {}, {"adms:1": Step(state=Q)}),
        ({"adms:1": "queued"}, {"adms:1": True}, {"adms:1": Step(state=V)}),
        ({"adms:1": "queued"}, {"adms:1": False}, {"adms:1": Step(state=F, reason="DATA return=-1")}),
        ({"zk": "pending: terminal offline"}, {}, {"zk": Step(state=P, reason="terminal offline")}),
        ({"isapi": "failed: read-back differs"}, {}, {"isapi": Step(state=F, reason="read-back differs")}),
        ({"sign": "unsupported", "zk": "verified"}, {}, {"zk": Step(state=V)}),  # holds no users
    ],
)
def test_a_report_becomes_one_step_per_device(
    report: dict[str, str], own: dict[str, bool], expected: dict[str, Step]
) -> None:
    terminals = {
        d: Result(device=d, ok=ok, detail="DATA return=0" if ok else "DATA return=-1")
        for d, ok in own.items()
    }
    assert device_steps(agent(report), terminals) == expected


def test_no_receipt_is_none_and_a_text_result_fails_every_device() -> None:
    assert device_steps(None, {}) is None
    text = Result(device="@agent", ok=False, detail="unknown command type 'user_upsert'")
    assert device_steps(text, {}) == {ANY_DEVICE: Step(state=F, reason="unknown command type 'user_upsert'")}


def test_the_worst_step_wins_and_a_missing_receipt_is_pending() -> None:
    assert combine([Step(state=V), Step(state=V)]) == Step(state=V)
    assert combine([Step(state=V), None]) == Step(state=P)
    assert combine([Step(state=Q), Step(state=V)]) == Step(state=Q)
    assert combine([Step(state=F, reason="busy"), Step(state=V)]) == Step(state=F, reason="busy")


def test_a_check_report_parses_extra_and_missing() -> None:
    detail = json.dumps(
        {"devices": {"zk": "drift: extra=9,10; missing=1", "face": "verified", "adms:1": "unsupported"}}
    )
    assert parse_report(detail) == {
        "zk": {"state": "drift", "extra": ["9", "10"], "missing": ["1"]},
        "face": {"state": "verified", "extra": [], "missing": []},
        "adms:1": {"state": "unsupported", "extra": [], "missing": []},
    }
    assert parse_report("not json") == {}
