"""Receipts: fold the agents' ``cmd_result`` events into the per-device roster states.

The agent's own result of a user command (device ``@agent``) names every terminal with its status
(edge_agent/device_commands.py): ``verified`` (done and read back), ``queued`` (ZK ADMS: runs at the
terminal's next poll, which then reports its own result under its device name), ``pending`` (terminal
offline), ``failed: reason``. A target's state on a device combines the steps of its latest change:
failed if any step failed there, verified when every step is, else queued or pending. A result that is
not a per-device report (bad arguments, unknown command) fails every device of the target with its text.
Receipts name the agent's terminals; rows of devices they do not name (signs, the placeholder) go.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import AgentEvent, DeviceState, RosterDevice, RosterTarget
from firmware_protocols import sync

ANY_DEVICE: Final = "*"  # the placeholder row until the agent's receipt names its terminals
AGENT_DEVICE: Final = "@agent"  # the agent's own device name (edge_agent/outbox/rows.py)
CLOCK_SKEW: Final = dt.timedelta(minutes=5)
UNSETTLED: Final = (DeviceState.PENDING, DeviceState.QUEUED)
STATE_ORDER: Final = (DeviceState.FAILED, DeviceState.PENDING, DeviceState.QUEUED, DeviceState.VERIFIED)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """One command's outcome on one device."""

    state: DeviceState
    reason: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Result:
    device: str
    ok: bool
    detail: str


def device_steps(agent_result: Result | None, own: Mapping[str, Result]) -> dict[str, Step] | None:
    """Per device, one command's outcome: from the agent's report and the terminals' own results."""
    if agent_result is None:
        return None
    try:
        report = json.loads(agent_result.detail)["devices"]
        assert isinstance(report, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        return {ANY_DEVICE: Step(state=DeviceState.FAILED, reason=agent_result.detail[:300])}
    steps = {}
    for device, text in report.items():
        status, _, reason = str(text).partition(": ")
        if status == "unsupported":
            continue  # a device that cannot hold users is not part of the roster
        if status == "queued" and device in own:  # the terminal ran it and said so itself
            mine = own[device]
            status, reason = ("verified", "") if mine.ok else ("failed", mine.detail)
        state = {"verified": DeviceState.VERIFIED, "queued": DeviceState.QUEUED}.get(status)
        state = state or (DeviceState.PENDING if status == "pending" else DeviceState.FAILED)
        steps[str(device)] = Step(state=state, reason=reason[:300] or ("" if state != "failed" else status))
    return steps


def combine(steps: Sequence[Step | None]) -> Step:
    """The worst of a change's steps on one device (a missing receipt counts as pending)."""
    known = [s or Step(state=DeviceState.PENDING) for s in steps]
    return min(known, key=lambda s: STATE_ORDER.index(s.state))


async def refresh(session: AsyncSession, org_id: int) -> int:
    """Apply the receipts that arrived for the organisation's unsettled devices; returns rows changed."""
    targets = list(
        (
            await session.execute(
                select(RosterTarget)
                .where(
                    RosterTarget.org_id == org_id,
                    RosterTarget.id.in_(
                        select(RosterDevice.target_id).where(
                            RosterDevice.org_id == org_id, RosterDevice.state.in_(UNSETTLED)
                        )
                    ),
                )
                .order_by(RosterTarget.id)
            )
        ).scalars()
    )
    if not targets:
        return 0
    results = await _results(session, targets)
    changed = 0
    for target in targets:
        changed += await _apply(session, target, results)
    await session.flush()
    return changed


async def _results(session: AsyncSession, targets: list[RosterTarget]) -> dict[str, list[Result]]:
    """cmd_id → its results (the agent's, and ADMS terminals' own), for the targets' commands."""
    wanted = {cmd_id for t in targets for cmd_id in t.cmd_ids}
    since = min(t.changed_at for t in targets) - CLOCK_SKEW
    rows = await session.execute(
        select(AgentEvent.device, AgentEvent.data)
        .where(
            AgentEvent.agent_pk.in_({t.agent_pk for t in targets}),
            AgentEvent.kind == sync.EventKind.CMD_RESULT.value,
            AgentEvent.occurred_at >= since,
        )
        .order_by(AgentEvent.id)
    )
    found: dict[str, list[Result]] = {}
    for device, data in rows.all():
        cmd_id = data.get("cmd_id")
        if cmd_id in wanted:
            result = Result(device=device, ok=data.get("ok") is True, detail=str(data.get("detail", "")))
            found.setdefault(cmd_id, []).append(result)
    return found


async def _apply(session: AsyncSession, target: RosterTarget, results: Mapping[str, list[Result]]) -> int:
    per_command: list[dict[str, Step] | None] = []
    for cmd_id in target.cmd_ids:
        mine = results.get(cmd_id, [])
        agent_result = next((r for r in reversed(mine) if r.device == AGENT_DEVICE), None)  # newest
        own = {r.device: r for r in mine if r.device != AGENT_DEVICE}
        per_command.append(device_steps(agent_result, own))
    named = set().union(*(s for s in per_command if s is not None)) - {ANY_DEVICE}
    rows = {
        d.device: d
        for d in (
            await session.execute(select(RosterDevice).where(RosterDevice.target_id == target.id))
        ).scalars()
    }
    if named:
        await forget_devices(session, target.id, named)
        for name in named - set(rows):
            rows[name] = RosterDevice(org_id=target.org_id, target_id=target.id, device=name)
            session.add(rows[name])
    changed = 0
    for name in named or set(rows):
        step = combine([_step_on(s, name) for s in per_command])
        changed += _set(rows[name], step, target.intended)
    return changed


def _step_on(steps: dict[str, Step] | None, device: str) -> Step | None:
    if steps is None:
        return None
    return steps.get(device) or steps.get(ANY_DEVICE) or Step(state=DeviceState.PENDING)


def _set(row: RosterDevice, step: Step, intended: dict[str, Any] | None) -> int:
    if (row.state, row.reason) == (step.state, step.reason):
        return 0
    row.state, row.reason, row.updated_at = step.state, step.reason, utc_now()
    if step.state == DeviceState.VERIFIED:
        row.verified = intended
    return 1


async def forget_devices(session: AsyncSession, target_id: int, keep: Iterable[str]) -> None:
    """Drop the target's rows of devices a receipt did not name (signs, the placeholder)."""
    gone = RosterDevice.device.not_in(list(keep))
    await session.execute(delete(RosterDevice).where(RosterDevice.target_id == target_id, gone))
