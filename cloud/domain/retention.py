"""Retention (PRIVACY.md RET-1): raw punches and people who left are kept only so long.

Rules
- Raw punches older than ``punch_retention_months`` (organisation setting, default 13) are deleted;
  the ledger entries they earned stay (they point to no punch).
- A member who left more than ``left_member_retention_years`` ago (default 2) is anonymised exactly
  like an erasure (``members.erase``): personal fields wiped, the row kept as a pseudonym so ledger
  rows and balances stay intact, no mapping back to the person kept.
- Months and years are calendar steps back from ``now`` (a day missing in the target month becomes
  that month's last day). Every run that changes something is audited with its counts, as the system.
  Running again at once changes nothing.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import AttendancePunch, Member, MemberStatus, Organisation
from cloud.domain import audit_log, members, ranking_version

DEFAULT_PUNCH_MONTHS = 13
DEFAULT_LEFT_YEARS = 2


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RetentionReport:
    org_id: int
    punches_before: dt.datetime
    punches_deleted: int
    left_before: dt.datetime
    members_anonymised: int


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` moved back by whole calendar months (the day clamped to the month's length)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


async def apply_retention(session: AsyncSession, org: Organisation, now: dt.datetime) -> RetentionReport:
    """Delete old punches and anonymise long-gone members of ``org``; the caller commits (or not)."""
    punch_months = int(org.settings.get("punch_retention_months") or DEFAULT_PUNCH_MONTHS)
    left_years = int(org.settings.get("left_member_retention_years") or DEFAULT_LEFT_YEARS)
    punches_before = months_before(now, punch_months)
    left_before = months_before(now, 12 * left_years)
    old_punches = (AttendancePunch.org_id == org.id, AttendancePunch.occurred_at < punches_before)
    counted = select(func.count()).select_from(AttendancePunch).where(*old_punches)
    punches = (await session.execute(counted)).scalar_one()
    if punches:
        await session.execute(delete(AttendancePunch).where(*old_punches))
    gone = select(Member).where(
        Member.org_id == org.id, Member.status == MemberStatus.LEFT, Member.left_at < left_before
    )
    anonymised = 0
    for member in (await session.execute(gone.order_by(Member.id))).scalars():
        members.erase(member)
        anonymised += 1
    if anonymised:
        await ranking_version.bump(session, org.id)  # erased members leave the rankings
    report = RetentionReport(
        org_id=org.id,
        punches_before=punches_before,
        punches_deleted=punches,
        left_before=left_before,
        members_anonymised=anonymised,
    )
    if punches or anonymised:
        await audit_log.record(
            session, org.id, audit_log.SYSTEM, "retention.apply", f"organisation:{org.id}", as_json(report)
        )
    await session.flush()
    return report


async def apply_everywhere(session: AsyncSession, now: dt.datetime) -> list[RetentionReport]:
    """``apply_retention`` for every organisation, in id order; the caller commits (or not)."""
    orgs = (await session.execute(select(Organisation).order_by(Organisation.id))).scalars().all()
    return [await apply_retention(session, org, now) for org in orgs]


def as_json(report: RetentionReport) -> dict[str, int | str]:
    """The report as JSON-ready values (times in ISO 8601)."""
    return {
        "org_id": report.org_id,
        "punches_before": report.punches_before.isoformat(),
        "punches_deleted": report.punches_deleted,
        "left_before": report.left_before.isoformat(),
        "members_anonymised": report.members_anonymised,
    }
