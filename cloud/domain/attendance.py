"""Attendance → points: the first check-in of a member's local day decides on time or late.

Rules (brief C): a punch finds its member by PIN in the agent's organisation (ingest refuses a PIN
of no member; a member who is not active earns nothing). The day is the organisation's local
calendar day. A punch counts as a check-in when its state is ``check_in`` or ``undefined``
(devices without an in/out key report that). At or before the shift start → on-time rule, after →
late rule → one ledger entry, source attendance, whose idempotency key ``attendance:{member}:{date}``
makes later punches that day create nothing, even when a batch is redelivered or two workers race.

Arrival order is not event order (a device log read late): when a check-in earlier than the one
that decided the day arrives and would earn the other rule, the standing entry is revoked by a
compensating entry (key ``revoke:{its key}``, so a race revokes once) and the earlier punch earns
a new entry (key ``attendance:{member}:{date}:{event id}``).

``score_punch`` is the reference, punch by punch; ``attendance_sets`` applies the same rules to a
whole batch in a fixed number of statements. The day's entries carry ``attendance_day`` (the key's
first three fields), so finding the standing entry is an index probe, not a ``LIKE``.

Calendars (``cloud.domain.calendar``): the member's shift decides the day a check-in belongs to (a
cross-midnight shift's) and how late it is (grace, flexible hours); a check-in on a day that is not
a work day (a holiday, a rest day) earns nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cloud.db.bind_lists import among, bound, dialect_of, key_rows
from cloud.db.models import AttendancePunch, AttendanceRule, EntrySource, LedgerEntry
from cloud.db.models import PointRule as Rule
from cloud.domain import calendar, ledger
from cloud.domain.calendar import ShiftTimes

CHECK_IN_STATES = frozenset({"check_in", "undefined"})


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
    shifts = await calendar.member_shifts(session, punch.org_id, calendar.rule_shift(rule), [punch.member_id])
    shift = shifts[punch.member_id]
    day = shift.day_of(local)
    if not (await calendar.load_calendar(session, punch.org_id, day, day)).is_work_day(day):
        return None
    rule_id = rule_for_arrival(rule, shift, local, day)
    key = day_key(punch.member_id, day)
    decided = await _day_decision(session, punch.org_id, key)
    if decided is None:
        return await _record(session, punch, rule_id, day, key)
    entry, decider = decided
    if decider is None or punch.occurred_at >= decider.occurred_at or entry.rule_id == rule_id:
        return None
    # An earlier check-in arrived after a later one had decided the day differently: correct it.
    await ledger.revoke(
        session, entry, idempotency_key=f"revoke:{entry.idempotency_key}", reason="earlier check-in"
    )
    return await _record(session, punch, rule_id, day, f"{key}:{punch.event_id}")


def rule_for_arrival(rule: AttendanceRule, shift: ShiftTimes, local: dt.datetime, day: dt.date) -> int:
    """On time up to the shift's grace after its (flexible) start; otherwise the late band for the
    minutes late. ``day`` is the shift day ``local`` belongs to."""
    minutes_late = shift.minutes_late(local, day)
    if minutes_late <= shift.grace_minutes:
        return rule.on_time_rule_id
    bands = sorted(
        (b for b in rule.late_bands if minutes_late > b["after_minutes"]), key=lambda b: b["after_minutes"]
    )
    return bands[-1]["rule_id"] if bands else rule.late_rule_id


def day_key(member_id: int, day: dt.date) -> str:
    """The idempotency key of a member's attendance entry for a day."""
    return f"attendance:{member_id}:{day.isoformat()}"


def absence_key(member_id: int, day: dt.date) -> str:
    """The idempotency key of a member's absence entry for a day."""
    return f"absent:{member_id}:{day.isoformat()}"


async def _day_decision(
    session: AsyncSession, org_id: int, day_key: str
) -> tuple[LedgerEntry, AttendancePunch | None] | None:
    """The day's standing attendance entry (not revoked) and the punch that earned it, if any."""
    dialect = dialect_of(session)
    query = standing_entries_statement(dialect).order_by(LedgerEntry.id.desc()).limit(1)
    row = (await session.execute(query, {"org_id": org_id, "day_keys": bound([day_key], dialect)})).first()
    return None if row is None else (row[0], row[1])


@functools.cache
def standing_entries_statement(dialect: str) -> Select[LedgerEntry, AttendancePunch]:
    """The attendance entries of ``:org_id`` on ``:day_keys`` that are not revoked, each with the punch
    that earned it (or None); bind the keys with ``bind_lists.bound``. Built once per engine.

    Every probe is an index seek: ``(org_id, attendance_day)``, ``revokes_id``, ``ledger_entry_id``.
    """
    revoked = aliased(LedgerEntry)
    return (
        select(LedgerEntry, AttendancePunch)
        .outerjoin(AttendancePunch, AttendancePunch.ledger_entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.org_id == bindparam("org_id"),
            among(LedgerEntry.attendance_day, "day_keys", dialect),
            ~exists().where(revoked.revokes_id == LedgerEntry.id),
        )
    )


async def _record(
    session: AsyncSession, punch: AttendancePunch, rule_id: int, day: dt.date, key: str
) -> LedgerEntry:
    assert punch.member_id is not None
    point_rule = await session.get_one(Rule, rule_id)
    return await ledger.record_entry(
        session,
        ledger.NewEntry(
            org_id=punch.org_id,
            member_id=punch.member_id,
            point_type_id=point_rule.point_type_id,
            points=point_rule.points,
            source=EntrySource.ATTENDANCE,
            effective_date=day,
            idempotency_key=key,
            rule_id=rule_id,
        ),
    )


def first_check_ins_first(punches: list[AttendancePunch]) -> list[AttendancePunch]:
    """Punches in time order, so the earliest of a day in one batch is the one that decides."""
    return sorted(punches, key=lambda p: (p.occurred_at, p.seq))


@functools.cache
def standing_entries_per_day_statement(dialect: str) -> Select[LedgerEntry, AttendancePunch]:
    """``standing_entries_statement`` for the many days of a batch, the same rows.

    On PostgreSQL each day key is looked up on its own, by a ``LATERAL`` subquery (its ``OFFSET``
    keeps it from being flattened into a join): the ledger grows faster than its statistics, and
    planned on stale ones the ``IN`` form read every entry of the organisation (``bind_lists``).
    """
    if dialect != "postgresql":
        return standing_entries_statement(dialect)
    days = key_rows("day_keys", LedgerEntry.attendance_day)
    revoked = aliased(LedgerEntry)
    per_day = (
        select(LedgerEntry, AttendancePunch)
        .outerjoin(AttendancePunch, AttendancePunch.ledger_entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.org_id == bindparam("org_id"),
            LedgerEntry.attendance_day == days.c.value,
            ~exists().where(revoked.revokes_id == LedgerEntry.id),
        )
        .offset(0)
        .lateral("day_entries")
    )
    entry, punch = aliased(LedgerEntry, per_day), aliased(AttendancePunch, per_day)
    return select(entry, punch).select_from(days).join(per_day, true())
