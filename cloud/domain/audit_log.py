"""The stored audit log: one hash chain per organisation (``cloud.audit.chain`` over the database).

Rule: every API write and every read of a sensitive field calls ``record`` in the same transaction
as the change, so an action and its audit entry commit together or not at all. The chain head row
is locked while appending (``SELECT … FOR UPDATE``; SQLite transactions are immediate anyway), so
concurrent writers of one organisation take turns and the sequence has no gaps.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.audit import ChainEntry, Problem, append, canonical_json, verify_chain
from cloud.db.base import utc_now
from cloud.db.models import AuditEntry, AuditHead


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    """Who acted: a token (id and role) or the system (``token_id`` None, e.g. the CLI)."""

    token_id: int | None
    role: str


SYSTEM = Actor(token_id=None, role="system")


async def record(
    session: AsyncSession,
    org_id: int,
    actor: Actor,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to ``org_id``'s chain; the caller commits (with the change it describes)."""
    head = await _locked_head(session, org_id)
    previous = None if head is None else ChainEntry(seq=head.seq, fields={}, prev_hash="", hash=head.hash)
    fields = {
        "at": utc_now(),
        "actor": {"token_id": actor.token_id, "role": actor.role},
        "action": action,
        "target": target,
        "detail": dict(detail or {}),
    }
    # Round-trip through canonical JSON so the stored text is exactly what the hash covers.
    stored = json.loads(canonical_json(fields))
    entry = append(previous, stored)
    row = AuditEntry(
        org_id=org_id,
        seq=entry.seq,
        action=action,
        fields=canonical_json(stored).decode(),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )
    session.add(row)
    if head is None:
        session.add(AuditHead(org_id=org_id, seq=entry.seq, hash=entry.hash))
    else:
        head.seq, head.hash = entry.seq, entry.hash
    await session.flush()
    return row


async def _locked_head(session: AsyncSession, org_id: int) -> AuditHead | None:
    query = select(AuditHead).where(AuditHead.org_id == org_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def as_chain_entry(row: AuditEntry) -> ChainEntry:
    """The chain view of a stored row."""
    return ChainEntry(seq=row.seq, fields=json.loads(row.fields), prev_hash=row.prev_hash, hash=row.hash)


async def verify(session: AsyncSession, org_id: int) -> list[Problem]:
    """Every problem in ``org_id``'s chain, checked against its stored head too (empty: intact)."""
    rows = await session.execute(
        select(AuditEntry).where(AuditEntry.org_id == org_id).order_by(AuditEntry.seq)
    )
    head = await session.get(AuditHead, org_id)
    entries = [as_chain_entry(r) for r in rows.scalars()]
    return verify_chain(entries, head=None if head is None else head.hash)
