"""Column values of the rows ingest inserts, shared by the set-based and the per-punch store."""

from __future__ import annotations

from typing import Any

from cloud.db.base import utc_now
from cloud.db.models import Agent
from cloud.ingest.admission import NewPunch
from firmware_protocols import sync


def punch_row(agent: Agent, new: NewPunch, ledger_entry_id: int | None) -> dict[str, Any]:
    """The ``attendance_punch`` values of an admitted punch."""
    event, punch = new.event, new.punch
    return {
        "org_id": agent.org_id,
        "agent_pk": agent.id,
        "event_id": event.id,
        "seq": event.seq,
        "device": event.device,
        "pin": punch.pin,
        "member_id": new.member_id,
        "occurred_at": event.occurred_at,
        "device_time": event.device_time,
        "received_at": event.received_at,
        "ingested_at": utc_now(),
        "verify_mode": punch.verify_mode.value,
        "state": punch.state.value,
        "dedup_key": punch.dedup_key,
        "ledger_entry_id": ledger_entry_id,
    }


def other_event_row(agent: Agent, event: sync.Event) -> dict[str, Any]:
    """The ``agent_event`` values of an event of another kind (kept raw)."""
    return {
        "org_id": agent.org_id,
        "agent_pk": agent.id,
        "event_id": event.id,
        "seq": event.seq,
        "kind": event.kind,
        "device": event.device,
        "occurred_at": event.occurred_at,
        "data": dict(event.data),
        "ingested_at": utc_now(),
    }
