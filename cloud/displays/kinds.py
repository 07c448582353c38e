"""Display content kinds: each one projected into what any sign can show, a title plus rows or lines.

Kinds and what they become (shared/PRIVACY.md DISP-1: display or masked names, department names,
ranks, points and rule names only — never phone, ID or free-text reasons):
- ``top_n`` / ``red_list``: the ranking's best ``size`` rows; ``black_list``: its worst first.
  Red and black lists show nothing unless ``show_red_black`` is on for the display (DISP-2); the
  API refuses to create such a display, and the projection checks again.
- ``department_table``: departments ranked by the month's total points of their own members.
- ``latest_events``: the newest approved entries as ``"<masked name> +3 <rule name>"`` lines.
- ``announcement``: the display's text, one line per line; ``clock``: the org-local date and time.
A ``public`` display counts and lists only members whose newest public-display consent is a grant.
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import (
    Balance,
    Department,
    Display,
    EntryStatus,
    LedgerEntry,
    Member,
    MemberStatus,
    PointRule,
)
from cloud.domain import ranking
from cloud.domain.periods import PeriodKind
from firmware_protocols import sync

MAX_LINES: Final = sync.messages.MAX_SIGN_LINES
MAX_CHARS: Final = sync.messages.MAX_LINE_CHARS


class Kind(enum.StrEnum):
    TOP_N = "top_n"
    DEPARTMENT_TABLE = "department_table"
    RED_LIST = "red_list"
    BLACK_LIST = "black_list"
    LATEST_EVENTS = "latest_events"
    ANNOUNCEMENT = "announcement"
    CLOCK = "clock"


RED_BLACK: Final = frozenset({Kind.RED_LIST, Kind.BLACK_LIST})


def refusal(kind: str, show_red_black: bool, announcement_text: str) -> str | None:
    """Why a display of this shape may not exist, or None when it may."""
    if kind in RED_BLACK and not show_red_black:
        return f"a {kind} display needs show_red_black enabled for it (red/black lists are off by default)"
    if kind == Kind.ANNOUNCEMENT and not announcement_text.strip():
        return "an announcement display needs announcement_text"
    return None


def mask(name: str) -> str:
    """A masked display name: first and last character kept (张小三 → 张*三, 张三 → 张*)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _scope(display: Display, month: str) -> ranking.Scope:
    return ranking.Scope(
        org_id=display.org_id,
        point_type_id=display.point_type_id,
        period_kind=PeriodKind.MONTH,
        period_key=month,
        public_only=display.audience != "internal",
    )


async def ranking_rows(session: AsyncSession, display: Display, month: str) -> tuple[sync.RankRow, ...]:
    """Rows of a top-N, red or black list display (empty for a red/black list not enabled)."""
    if display.content_kind in RED_BLACK and not display.show_red_black:
        return ()
    order = ranking.Order.BOTTOM if display.content_kind == Kind.BLACK_LIST else ranking.Order.TOP
    ranked = await ranking.ranked(session, _scope(display, month), display.size, order=order)
    return tuple(sync.RankRow(rank=r.rank, name=r.display_name, points=r.points) for r in ranked)


async def department_rows(session: AsyncSession, display: Display, month: str) -> tuple[sync.RankRow, ...]:
    """Departments by the month's total points of their (non-erased) members, ranked 1, 2, 2, 4."""
    total = func.sum(Balance.points).label("total")
    query = (
        select(Department.id, Department.name, total)
        .join(Member, Member.department_id == Department.id)
        .join(Balance, Balance.member_id == Member.id)
        .where(
            Department.org_id == display.org_id,
            Balance.org_id == display.org_id,
            Balance.point_type_id == display.point_type_id,
            Balance.period_kind == PeriodKind.MONTH,
            Balance.period_key == month,
            Member.status != MemberStatus.ERASED,
        )
        .group_by(Department.id, Department.name)
        .order_by(total.desc(), Department.name.asc(), Department.id.asc())
        .limit(display.size)
    )
    if display.audience != "internal":
        query = query.where(Member.id.in_(ranking.consenting(display.org_id)))
    rows = [(r.id, r.name, int(r.total)) for r in (await session.execute(query)).all()]
    # Ranks within the shown page are the table's ranks: the query is ordered by total already.
    ranked = ranking.competition_ranks(rows)
    return tuple(sync.RankRow(rank=r.rank, name=r.display_name[:64], points=r.points) for r in ranked)


async def latest_event_lines(session: AsyncSession, display: Display) -> tuple[str, ...]:
    """The newest approved awards of the display's point type: masked name, points, rule name."""
    query = (
        select(Member.display_name, LedgerEntry.points, PointRule.name)
        .join(Member, Member.id == LedgerEntry.member_id)
        .outerjoin(PointRule, PointRule.id == LedgerEntry.rule_id)
        .where(
            LedgerEntry.org_id == display.org_id,
            LedgerEntry.point_type_id == display.point_type_id,
            LedgerEntry.status == EntryStatus.APPROVED,
            LedgerEntry.revokes_id.is_(None),
            Member.status != MemberStatus.ERASED,
        )
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(min(display.size, MAX_LINES))
    )
    if display.audience != "internal":
        query = query.where(Member.id.in_(ranking.consenting(display.org_id)))
    rows = (await session.execute(query)).all()
    # The rule's name only: an entry's free-text reason never reaches a sign (DISP-1).
    return tuple(f"{mask(r[0])} {r[1]:+d} {r[2] or ''}".strip()[:MAX_CHARS] for r in rows)


def announcement_lines(display: Display) -> tuple[str, ...]:
    """The announcement text, one sign line per line (the API keeps it within the contract's limits)."""
    return tuple(line[:MAX_CHARS] for line in display.announcement_text.split("\n")[:MAX_LINES])


def clock_lines(time_zone: str, now: dt.datetime) -> tuple[str, ...]:
    """The organisation-local date and time at generation time."""
    return (now.astimezone(zoneinfo.ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M"),)
