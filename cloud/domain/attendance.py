"""Attendance → points: the first check-in of a member's local day decides on time or late.

Rules (brief C): a punch finds its member by PIN in the agent's organisation; unknown PIN → the punch
is stored with no entry. The day is the organisation's local calendar day. A punch counts as a
check-in when its state is ``check_in`` or ``undefined`` (devices without an in/out key report
that). At or before the shift start → on-time rule, after → late rule → one ledger entry, source
attendance, whose idempotency key ``attendance:{member}:{date}`` makes later punches that day
create nothing, even when a batch is redelivered or two workers race.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import AttendancePunch, AttendanceRule, EntrySource, LedgerEntry, Member, MemberStatus
from cloud.db.models import PointRule as Rule
from cloud.domain import ledger

CHECK_IN_STATES = frozenset({"check_in", "undefined"})


async def member_by_pin(session: AsyncSession, org_id: int, pin: str) -> Member | None:
    """The active member of ``org_id`` whose terminal PIN is ``pin``."""
    query = select(Member).where(
        Member.org_id == org_id, Member.pin == pin, Member.status == MemberStatus.ACTIVE
    )
    return (await session.execute(query)).scalar_one_or_none()


async def current_rule(session: AsyncSession, org_id: int) -> AttendanceRule | None:
    """The organisation's attendance rule (the newest one when several exist)."""
    query = select(AttendanceRule).where(AttendanceRule.org_id == org_id).order_by(AttendanceRule.id.desc())
    return (await session.execute(query.limit(1))).scalar_one_or_none()


async def score_punch(session: AsyncSession, punch: AttendancePunch, time_zone: str) -> LedgerEntry | None:
    """Turn a stored punch (member already resolved) into its day's entry, or None if it earns nothing."""
    if punch.member_id is None or punch.state not in CHECK_IN_STATES:
        return None
    rule = await current_rule(session, punch.org_id)
    if rule is None:
        return None
    local = punch.occurred_at.astimezone(ZoneInfo(time_zone))
    key = f"attendance:{punch.member_id}:{local.date().isoformat()}"
    if await ledger.find_by_key(session, punch.org_id, key) is not None:
        return None
    rule_id = rule.on_time_rule_id if local.time() <= rule.shift_start else rule.late_rule_id
    point_rule = await session.get_one(Rule, rule_id)
    return await ledger.record_entry(
        session,
        ledger.NewEntry(
            org_id=punch.org_id,
            member_id=punch.member_id,
            point_type_id=point_rule.point_type_id,
            points=point_rule.points,
            source=EntrySource.ATTENDANCE,
            effective_date=local.date(),
            idempotency_key=key,
            rule_id=rule_id,
        ),
    )


def first_check_ins_first(punches: list[AttendancePunch]) -> list[AttendancePunch]:
    """Punches in time order, so the earliest of a day in one batch is the one that decides."""
    return sorted(punches, key=lambda p: (p.occurred_at, p.seq))
