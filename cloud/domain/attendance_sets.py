"""Attendance → points for a whole batch of check-ins, in a fixed number of statements.

The rules are ``cloud.domain.attendance`` (``score_punch``, the reference): this module applies
them to a batch as sets. One select finds the rule and the time zone, one the standing entries of
every (member, day) the batch touches, one the point rules; then the batch is decided in memory,
in time order, exactly as scoring punch by punch would decide it (each decision sees the ones
before it: ``decide_check_ins``, reads only); then one ledger insert returning the new ids and one
aggregated balance upsert write the result (``record_scoring``). The caller inserts the punches
with the entry ids it gets back. The calendar adds three selects: the members' shifts (the day a
check-in belongs to and how late it is) and the work week with its holidays (a check-in on a day
off earns nothing).

Why a correction never revokes an entry made in the same batch: that entry's punch sorts earlier,
so every later check-in of the day is at or after it and earns nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db import pg_arrays
from cloud.db.base import utc_now
from cloud.db.bind_lists import among, bound, dialect_of
from cloud.db.models import AttendanceRule, EntrySource, EntryStatus, LedgerEntry, Organisation
from cloud.db.models import PointRule as Rule
from cloud.db.models.points import attendance_day_of
from cloud.domain import balance_sets, calendar, ranking_version
from cloud.domain.attendance import day_key, rule_for_arrival, standing_entries_per_day_statement
from cloud.domain.calendar import ShiftTimes

REVOKE_REASON = "earlier check-in"

_LEDGER = cast(Table, LedgerEntry.__table__)  # Core, not ORM: no per-row ORM work
_LEDGER_COLUMNS = (
    *("org_id", "member_id", "point_type_id", "points", "rule_id", "reason", "source", "effective_date"),
    *("revokes_id", "event_id", "idempotency_key", "status", "attendance_day", "created_at"),
)
_PG_INSERT_LEDGER = pg_arrays.unnest_insert(_LEDGER, _LEDGER_COLUMNS, returning=("idempotency_key", "id"))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CheckIn:
    """A new check-in punch of an active member (state check_in or undefined)."""

    event_id: str
    member_id: int
    occurred_at: dt.datetime
    seq: int


@dataclasses.dataclass(slots=True)
class _Day:
    """A day's standing entry as far as the batch has decided: its rule and its punch's time."""

    rule_id: int | None
    decided_at: dt.datetime | None  # None when no punch earned it (a correction): never corrected
    entry: LedgerEntry | None  # the stored entry; None when it is planned in this batch


@dataclasses.dataclass(frozen=True, slots=True)
class _Arrival:
    """A check-in placed in the organisation's day: its day key, the rule it earns, the local date."""

    check_in: CheckIn
    key: str
    rule_id: int
    day: dt.date


@dataclasses.dataclass(slots=True)
class ScoringPlan:
    """A batch's decisions before they are written: the ledger rows and which event earned which."""

    org_id: int
    point_rules: dict[int, Rule]
    days: dict[str, _Day]
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    earned: dict[str, int] = dataclasses.field(default_factory=dict)  # event id → index in rows

    def decide(self, arrival: _Arrival) -> None:
        """One punch's decision, as ``score_punch`` takes it, against the batch's running state."""
        check_in, key = arrival.check_in, arrival.key
        standing = self.days.get(key)
        if standing is not None:
            if standing.decided_at is None or check_in.occurred_at >= standing.decided_at:
                return
            if standing.rule_id == arrival.rule_id:
                return
            assert standing.entry is not None, "an entry planned in this batch has no earlier punch"
            self.rows.append(_revocation(standing.entry))
            key = f"{key}:{check_in.event_id}"
        self.earned[check_in.event_id] = len(self.rows)
        point_rule = self.point_rules[arrival.rule_id]
        self.rows.append(_attendance_entry(self.org_id, check_in.member_id, point_rule, arrival, key))
        self.days[arrival.key] = _Day(rule_id=arrival.rule_id, decided_at=check_in.occurred_at, entry=None)


async def decide_check_ins(session: AsyncSession, org_id: int, check_ins: list[CheckIn]) -> ScoringPlan:
    """What the check-ins earn, decided from the database's state (reads only)."""
    found = await _rule_and_zone(session, org_id) if check_ins else None
    if found is None:
        return ScoringPlan(org_id, {}, {})
    rule, zone = found
    ordered = sorted(check_ins, key=lambda c: (c.occurred_at, c.seq))  # stable, as first_check_ins_first
    members = {c.member_id for c in check_ins}
    shifts = await calendar.member_shifts(session, org_id, calendar.rule_shift(rule), members)
    placed = [_arrival(rule, zone, shifts[c.member_id], c) for c in ordered]
    span = await calendar.load_calendar(
        session, org_id, min(a.day for a in placed), max(a.day for a in placed)
    )
    arrivals = [a for a in placed if span.is_work_day(a.day)]
    days = await _standing(session, org_id, sorted({a.key for a in arrivals}))
    plan = ScoringPlan(org_id, await _point_rules(session, {a.rule_id for a in arrivals}), days)
    for arrival in arrivals:
        plan.decide(arrival)
    return plan


async def record_scoring(session: AsyncSession, plan: ScoringPlan) -> dict[str, int]:
    """Write ``plan`` (ledger rows, balances, ranking version); the ledger entry id per earning event id."""
    if not plan.rows:
        return {}
    ids = await _insert_entries(session, plan.rows)
    await balance_sets.add_to_balances(session, plan.org_id, balance_sets.period_deltas(plan.rows))
    await ranking_version.bump(session, plan.org_id)
    return {event_id: ids[index] for event_id, index in plan.earned.items()}


def _arrival(rule: AttendanceRule, zone: ZoneInfo, shift: ShiftTimes, check_in: CheckIn) -> _Arrival:
    local = check_in.occurred_at.astimezone(zone)
    day = shift.day_of(local)
    return _Arrival(
        check_in, day_key(check_in.member_id, day), rule_for_arrival(rule, shift, local, day), day
    )


def _attendance_entry(
    org_id: int, member_id: int, point_rule: Rule, arrival: _Arrival, key: str
) -> dict[str, Any]:
    return _entry_row(
        org_id=org_id,
        member_id=member_id,
        point_type_id=point_rule.point_type_id,
        points=point_rule.points,
        rule_id=arrival.rule_id,
        reason=None,
        source=EntrySource.ATTENDANCE,
        effective_date=arrival.day,
        revokes_id=None,
        event_id=None,
        idempotency_key=key,
    )


def _revocation(entry: LedgerEntry) -> dict[str, Any]:
    """The compensating entry ``ledger.revoke`` would record for ``entry``."""
    return _entry_row(
        org_id=entry.org_id,
        member_id=entry.member_id,
        point_type_id=entry.point_type_id,
        points=-entry.points,
        rule_id=None,
        reason=REVOKE_REASON,
        source=EntrySource.SYSTEM,
        effective_date=entry.effective_date,
        revokes_id=entry.id,
        event_id=entry.event_id,
        idempotency_key=f"revoke:{entry.idempotency_key}",
    )


def _entry_row(**values: Any) -> dict[str, Any]:
    key = values["idempotency_key"]
    return values | {"status": EntryStatus.APPROVED.value, "attendance_day": attendance_day_of(key)}


_RULE_AND_ZONE = (  # built once; run with :org_id
    select(AttendanceRule, Organisation.time_zone)
    .join(Organisation, Organisation.id == AttendanceRule.org_id)
    .where(AttendanceRule.org_id == bindparam("org_id"))
    .order_by(AttendanceRule.id.desc())
    .limit(1)
)


async def _rule_and_zone(session: AsyncSession, org_id: int) -> tuple[AttendanceRule, ZoneInfo] | None:
    """The organisation's newest attendance rule (as ``current_rule``) and its time zone."""
    row = (await session.execute(_RULE_AND_ZONE, {"org_id": org_id})).first()
    return None if row is None else (row[0], ZoneInfo(row[1]))


async def _standing(session: AsyncSession, org_id: int, keys: list[str]) -> dict[str, _Day]:
    """Each day's newest standing entry and the time of the punch that earned it (one select)."""
    days: dict[str, _Day] = {}
    newest: dict[str, int] = {}
    dialect = dialect_of(session)
    params = {"org_id": org_id, "day_keys": bound(keys, dialect)}
    for entry, punch in (await session.execute(standing_entries_per_day_statement(dialect), params)).all():
        key = entry.attendance_day
        if key is None or newest.get(key, -1) > entry.id:
            continue
        newest[key] = entry.id
        decided_at = None if punch is None else punch.occurred_at
        days[key] = _Day(rule_id=entry.rule_id, decided_at=decided_at, entry=entry)
    return days


@functools.cache
def _point_rules_statement(dialect: str) -> Select[Rule]:
    return select(Rule).where(among(Rule.id, "ids", dialect))


async def _point_rules(session: AsyncSession, ids: set[int]) -> dict[int, Rule]:
    dialect = dialect_of(session)
    query = _point_rules_statement(dialect)
    rules = (await session.execute(query, {"ids": bound(sorted(ids), dialect)})).scalars()
    return {rule.id: rule for rule in rules}


async def _insert_entries(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the ledger rows in order; their ids, in the same order (one statement).

    The rows go as one multi-row INSERT … RETURNING (SQLAlchemy's "insertmanyvalues"; on PostgreSQL
    one ``unnest`` of column arrays, see ``pg_arrays``); the ids come back matched by idempotency key
    (unique per organisation), not by position.
    """
    if session.get_bind().dialect.name == "postgresql":
        now = utc_now()  # the column default, which a text statement does not apply
        arrays = pg_arrays.column_arrays([row | {"created_at": now} for row in rows], _LEDGER_COLUMNS)
        result = await session.execute(_PG_INSERT_LEDGER, arrays)
    else:
        statement = insert(_LEDGER).returning(_LEDGER.c.idempotency_key, _LEDGER.c.id)
        result = await session.execute(statement, rows)
    ids: dict[str, int] = {key: entry_id for key, entry_id in result.all()}
    return [ids[row["idempotency_key"]] for row in rows]
