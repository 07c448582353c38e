"""Builders for test data through the domain layer (the same code paths as production)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import (
    AttendanceRule,
    EntrySource,
    LedgerEntry,
    Member,
    OrgKind,
    PointRule,
    PointType,
    Role,
)
from cloud.domain import ledger
from cloud.domain.orgs import create_org, issue_token


@dataclasses.dataclass
class Tenant:
    org_id: int
    token: str
    point_type_id: int
    on_time_rule_id: int
    late_rule_id: int


async def tenant(session: AsyncSession, name: str = "Acme", role: Role = Role.ORG_ADMIN) -> Tenant:
    """An organisation (Asia/Shanghai) with point type A, rules on time +2 / late -1, shift 09:00."""
    org = await create_org(session, name, OrgKind.ENTERPRISE)
    point_type = PointType(org_id=org.id, code="A", name="A points")
    session.add(point_type)
    await session.flush()
    on_time = PointRule(
        org_id=org.id, category="attendance", name="on time", point_type_id=point_type.id, points=2
    )
    late = PointRule(
        org_id=org.id, category="attendance", name="late", point_type_id=point_type.id, points=-1
    )
    session.add_all([on_time, late])
    await session.flush()
    session.add(
        AttendanceRule(
            org_id=org.id, shift_start=dt.time(9), on_time_rule_id=on_time.id, late_rule_id=late.id
        )
    )
    token = await issue_token(session, org.id, role)
    await session.flush()
    return Tenant(
        org_id=org.id,
        token=token,
        point_type_id=point_type.id,
        on_time_rule_id=on_time.id,
        late_rule_id=late.id,
    )


async def member(session: AsyncSession, org_id: int, name: str, pin: str | None = None) -> Member:
    row = Member(org_id=org_id, display_name=name, legal_name=f"{name} Legal", pin=pin)
    session.add(row)
    await session.flush()
    return row


async def award(
    session: AsyncSession, t: Tenant, member_id: int, points: int, day: dt.date, key: str
) -> LedgerEntry:
    return await ledger.record_entry(
        session,
        ledger.NewEntry(
            org_id=t.org_id,
            member_id=member_id,
            point_type_id=t.point_type_id,
            points=points,
            source=EntrySource.MANUAL,
            effective_date=day,
            idempotency_key=key,
        ),
    )
