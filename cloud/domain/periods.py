"""Ranking periods: which balance rows one ledger entry feeds, and the keys that name them."""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Final
from zoneinfo import ZoneInfo


class PeriodKind(enum.StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO 8601 weeks (Monday first): "2026-W48"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL = "all"


ALL_TIME_KEY: Final = "all"

# The key format of each period kind; a request's key is checked against it.
KEY_PATTERNS: Final[dict[PeriodKind, re.Pattern[str]]] = {
    PeriodKind.DAY: re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"),
    PeriodKind.WEEK: re.compile(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])"),
    PeriodKind.MONTH: re.compile(r"\d{4}-(0[1-9]|1[0-2])"),
    PeriodKind.QUARTER: re.compile(r"\d{4}-Q[1-4]"),
    PeriodKind.YEAR: re.compile(r"\d{4}"),
    PeriodKind.ALL: re.compile(ALL_TIME_KEY),
}


def period_key(kind: PeriodKind, day: dt.date) -> str:
    """The key of the period of ``kind`` that contains ``day`` ("2026-11-05", "2026-W45", "2026-11", …)."""
    if kind is PeriodKind.DAY:
        return day.isoformat()
    if kind is PeriodKind.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if kind is PeriodKind.QUARTER:
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind is PeriodKind.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    if kind is PeriodKind.YEAR:
        return f"{day.year:04d}"
    return ALL_TIME_KEY


def period_keys(day: dt.date) -> dict[PeriodKind, str]:
    """Every period an entry effective on ``day`` counts towards."""
    return {kind: period_key(kind, day) for kind in PeriodKind}


def is_valid_key(kind: PeriodKind, key: str) -> bool:
    """Whether ``key`` names a period of ``kind`` (a day key must also be a real date)."""
    if KEY_PATTERNS[kind].fullmatch(key) is None:
        return False
    if kind is PeriodKind.DAY:
        try:
            dt.date.fromisoformat(key)
        except ValueError:
            return False
    return True


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    """The calendar date of ``moment`` (aware) in ``time_zone``."""
    return moment.astimezone(ZoneInfo(time_zone)).date()


def today(time_zone: str) -> dt.date:
    """Today's date in ``time_zone``."""
    return local_date(dt.datetime.now(dt.UTC), time_zone)
