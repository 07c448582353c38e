"""An organisation leaves (PRIVACY.md DEL-3, ENC-2): everything it owns is deleted or anonymised.

Rules
- Deletion is generic over the schema: every table with an ``org_id`` column loses the
  organisation's rows, children before parents (``Base.metadata.sorted_tables`` reversed). A table
  added later is covered without a change here; the test that walks every table keeps that honest.
- Three kinds of rows are kept, anonymised, each for a stated reason (``KEPT``):
  the organisation row (it anchors the audit chain and the deletion report), its agents (retired
  for good, so a box cannot come back under the old identity; status and site cleared) and the
  audit chain (re-chained without the entries' free-text details; the old head is in the report).
- The data key is deleted with the rest (crypto-shredding): ciphertexts in backups stay noise once
  the master key that wrapped the backed-up data key is rotated away (``mpm-cloud keys rotate``).
- Devices: erasing the members from every terminal is the roster's job and comes first, while the
  members and agents exist (``cloud.roster.leaving``, the route's first phase): a retired agent gets
  no commands, and ``agent_command`` rows are deleted here. The caller passes how many erasure
  requests that phase made, for the report.
- One transaction: a failure (e.g. the CA cannot revoke) leaves everything as it was.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.audit.chain import ChainEntry, append, canonical_json
from cloud.db.base import Base, utc_now
from cloud.db.models import Agent, ApiToken, AuditEntry, AuditHead, Organisation, Quarantine
from cloud.domain import audit_log

DEREGISTER_ACTION: Final = "org.deregister"
KEPT: Final = {
    "organisation": "kept as a nameless stub: it anchors the audit chain and this report",
    "agent": "kept retired, status and site cleared: a box never returns under a retired identity",
    "audit_entry": "hash-chained (AUD-1): kept as who-did-what-when, re-chained without free-text details;"
    " members are named only by ids whose rows are gone",
    "audit_head": "the head of the re-chained audit log",
}
BACKUPS_NOTE: Final = (
    "the data key is destroyed; backups taken before still hold it wrapped by the master key:"
    " run `mpm-cloud keys rotate` and destroy the old master key to make those copies noise too"
)


class AlreadyDeregistered(Exception):
    """The organisation left before."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeletionReport:
    """What deregistration removed (rows per table), kept anonymised (and why), retired and shredded."""

    organisation_id: int
    deregistered_at: str
    deleted: dict[str, int]
    anonymised: dict[str, str]
    agents_retired: list[str]
    certificates_revoked: list[str]
    device_erasure_requests: int
    data_key_shredded: bool
    audit_head_before: str | None
    backups: str = BACKUPS_NOTE

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def is_deregistered(org: Organisation) -> bool:
    return "deregistered_at" in org.settings


async def deregister(
    session: AsyncSession,
    org_id: int,
    actor: audit_log.Actor,
    *,
    revoke: Callable[[str], list[str]],
    device_erasure_requests: int = 0,
) -> DeletionReport:
    """Delete or anonymise everything ``org_id`` owns; ``revoke(agent_id)`` revokes an agent's
    certificates (returns the serials); ``device_erasure_requests`` is what the roster's erasure from
    the devices made before. The caller commits; the report is also the last audit entry."""
    org = await session.get_one(Organisation, org_id, with_for_update=True)
    if is_deregistered(org):
        raise AlreadyDeregistered(
            f"organisation {org_id} was deregistered at {org.settings['deregistered_at']}"
        )
    now = utc_now()
    retired, serials = await _retire_agents(session, org_id, revoke)
    deleted = {"quarantine": await _delete_quarantined(session, retired)}
    deleted |= await _delete_owned_rows(session, org_id)
    org.name = f"deregistered organisation {org_id}"
    org.settings = {"deregistered_at": now.isoformat()}
    head_before = await _rechain_without_details(session, org_id)
    report = DeletionReport(
        organisation_id=org_id,
        deregistered_at=now.isoformat(),
        deleted=deleted,
        anonymised=dict(KEPT),
        agents_retired=retired,
        certificates_revoked=serials,
        device_erasure_requests=device_erasure_requests,
        data_key_shredded=deleted.get("org_data_key", 0) > 0,
        audit_head_before=head_before,
    )
    await audit_log.record(
        session, org_id, actor, DEREGISTER_ACTION, f"organisation:{org_id}", report.as_dict()
    )
    return report


async def org_token_ids(session: AsyncSession, org_id: int) -> list[int]:
    """The organisation's API tokens (to forget in caches once they are deleted)."""
    return list((await session.scalars(select(ApiToken.id).where(ApiToken.org_id == org_id))).all())


async def _retire_agents(
    session: AsyncSession, org_id: int, revoke: Callable[[str], list[str]]
) -> tuple[list[str], list[str]]:
    agents = (await session.scalars(select(Agent).where(Agent.org_id == org_id).order_by(Agent.id))).all()
    serials: list[str] = []
    for agent in agents:
        if agent.retired_at is None:
            agent.retired_at = utc_now()
            serials += revoke(agent.agent_id)
        agent.last_status = None
        agent.site_id = None
    await session.flush()
    return [a.agent_id for a in agents], serials


async def _delete_quarantined(session: AsyncSession, agent_ids: Sequence[str]) -> int:
    """Quarantined payloads have no org column: they belong to the agent named in the topic."""
    removed = 0
    for agent_id in agent_ids:
        prefix = f"mpm/v1/{agent_id}/"
        result = await session.execute(
            delete(Quarantine).where(Quarantine.topic.startswith(prefix, autoescape=True))
        )
        removed += _rowcount(result)
    return removed


async def _delete_owned_rows(session: AsyncSession, org_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in reversed(owned_tables()):
        if table.name in KEPT:
            continue
        result = await session.execute(delete(table).where(table.c.org_id == org_id))
        counts[table.name] = _rowcount(result)
    return dict(sorted(counts.items()))


def owned_tables() -> list[Table]:
    """Every table with an ``org_id`` column, parents before children."""
    return [t for t in Base.metadata.sorted_tables if "org_id" in t.c]


async def _rechain_without_details(session: AsyncSession, org_id: int) -> str | None:
    """Drop every entry's ``detail`` (free text may name people) and recompute the chain."""
    head = await session.get(AuditHead, org_id, with_for_update=True)
    if head is None:
        return None
    rows = (
        await session.scalars(select(AuditEntry).where(AuditEntry.org_id == org_id).order_by(AuditEntry.seq))
    ).all()
    previous: ChainEntry | None = None
    for row in rows:
        fields = {**json.loads(row.fields), "detail": {}}
        entry = append(previous, fields)
        row.fields = canonical_json(fields).decode()
        row.prev_hash, row.hash = entry.prev_hash, entry.hash
        previous = entry
    before = head.hash
    if previous is not None:
        head.seq, head.hash = previous.seq, previous.hash
    await session.flush()
    return before


def _rowcount(result: Any) -> int:
    count = getattr(result, "rowcount", 0)
    return int(count) if count and count > 0 else 0
