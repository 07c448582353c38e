"""Importing an organisation's calendar from a file: CSV rows or a JSON document.

Rules
- CSV: a header ``date,kind,name`` (``name`` optional), then one row per dated exception. JSON:
  ``{"work_weekdays": [1, 2, 3, 4, 5], "days": [{"date": …, "kind": …, "name": …}, …]}``, both keys
  optional. ``kind`` is ``holiday`` (a public holiday) or ``workday`` (a make-up work day, 调休).
- Rows are numbered from 1 (CSV: the first row after the header). Every bad row is reported with its
  number and field, and nothing is stored unless the whole file is good.
- Storing upserts: a date already in the calendar takes the file's kind and name; other dates stay.
  ``work_weekdays``, when given, replaces the work week.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import CalendarDay, DayKind, WorkCalendar

MAX_ROWS = 2000
MAX_NAME = 200
KINDS = frozenset(k.value for k in DayKind)


@dataclasses.dataclass(frozen=True, slots=True)
class RowError:
    row: int  # 1-based; 0 for the document itself
    field: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class DayRow:
    day: dt.date
    kind: DayKind
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class CalendarFile:
    work_weekdays: list[int] | None
    days: list[DayRow]


class CalendarFileError(Exception):
    """The file has errors; ``errors`` names each row and field."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(f"row {e.row}: {e.field}: {e.message}" for e in errors[:20]))
        self.errors = errors


def parse_csv(text: str) -> CalendarFile:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "date" not in header or "kind" not in header:
        raise CalendarFileError(
            [RowError(0, "header", "the first row must name the columns date,kind[,name]")]
        )
    rows: list[dict[str, Any]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        rows.append(dict(zip(header, (c.strip() for c in cells), strict=False)))
    return CalendarFile(None, _days(rows))


def parse_json(text: str) -> CalendarFile:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CalendarFileError([RowError(0, "document", f"not JSON: {exc}")]) from None
    if not isinstance(document, dict):
        raise CalendarFileError([RowError(0, "document", "must be an object with work_weekdays and days")])
    weekdays = document.get("work_weekdays")
    errors: list[RowError] = []
    if weekdays is not None and not _valid_weekdays(weekdays):
        errors.append(RowError(0, "work_weekdays", "must be distinct ISO weekdays 1 (Monday) … 7 (Sunday)"))
    rows = document.get("days", [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        errors.append(RowError(0, "days", "must be a list of objects"))
        rows = []
    try:
        days = _days(rows)
    except CalendarFileError as exc:
        errors += exc.errors
        days = []
    if errors:
        raise CalendarFileError(errors)
    return CalendarFile(None if weekdays is None else sorted(weekdays), days)


def _valid_weekdays(value: object) -> bool:
    return (
        isinstance(value, list)
        and all(type(v) is int and 1 <= v <= 7 for v in value)
        and len(set(value)) == len(value)
    )


def _days(rows: list[dict[str, Any]]) -> list[DayRow]:
    if len(rows) > MAX_ROWS:
        raise CalendarFileError([RowError(MAX_ROWS + 1, "row", f"at most {MAX_ROWS} rows per file")])
    errors: list[RowError] = []
    days: list[DayRow] = []
    seen: dict[dt.date, int] = {}
    for number, row in enumerate(rows, start=1):
        day = _date(row.get("date"))
        kind = row.get("kind")
        name = row.get("name") or ""
        if day is None:
            errors.append(
                RowError(number, "date", f"must be a date YYYY-MM-DD, got {_shown(row.get('date'))}")
            )
        elif day in seen:
            errors.append(RowError(number, "date", f"{day.isoformat()} is already on row {seen[day]}"))
        if kind not in KINDS:
            errors.append(RowError(number, "kind", f"must be holiday or workday, got {_shown(kind)}"))
        if not isinstance(name, str) or len(name) > MAX_NAME or not name.isprintable():
            errors.append(
                RowError(number, "name", f"must be printable text of at most {MAX_NAME} characters")
            )
        if day is not None and kind in KINDS and isinstance(name, str):
            seen.setdefault(day, number)
            days.append(DayRow(day, DayKind(kind), name))
    if errors:
        raise CalendarFileError(errors)
    return days


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _shown(value: object) -> str:
    return repr(value)[:40]


async def store(session: AsyncSession, org_id: int, parsed: CalendarFile) -> int:
    """Upsert the file's days (and work week); returns how many days were written. The caller commits."""
    if parsed.work_weekdays is not None:
        week = await session.get(WorkCalendar, org_id)
        if week is None:
            session.add(WorkCalendar(org_id=org_id, work_weekdays=parsed.work_weekdays))
        else:
            week.work_weekdays = parsed.work_weekdays
    dates = [d.day for d in parsed.days]
    if dates:
        await session.execute(
            delete(CalendarDay).where(CalendarDay.org_id == org_id, CalendarDay.day.in_(dates))
        )
        session.add_all(
            CalendarDay(org_id=org_id, day=d.day, kind=d.kind.value, name=d.name) for d in parsed.days
        )
    await session.flush()
    return len(dates)


async def calendar_days(session: AsyncSession, org_id: int, year: int) -> list[CalendarDay]:
    """The dated exceptions of ``year``, in date order."""
    query = select(CalendarDay).where(
        CalendarDay.org_id == org_id,
        CalendarDay.day >= dt.date(year, 1, 1),
        CalendarDay.day <= dt.date(year, 12, 31),
    )
    return list((await session.execute(query.order_by(CalendarDay.day))).scalars())
