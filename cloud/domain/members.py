"""Members: CSV import (good rows created, bad rows reported by line) and export; erasure (DEL-1).

CSV columns (header required, UTF-8, optional BOM): ``display_name`` (required), ``legal_name``,
``pin``, ``card``, ``department`` (an existing department's name). A row is refused with its line
number when the display name is missing or too long, the PIN is taken (in the database or earlier in
the file), or the department is unknown. Sensitive fields are never part of import or export.

Minors (PRIVACY.md MIN-1): a member is a minor when flagged (``minor``), or when their birth year
(given directly, or taken from the birth date when that encrypted field is written) means they may be
younger than the organisation's ``minors_age`` (setting, default 14, at most 18). Only the year is
known, so the doubt counts as minor: born ``current year - minors_age`` or later → minor. A minor's
consents must be given by the guardian (a grant recorded by ``self`` is refused; withdrawals are
always accepted), and a public display leaves a minor out unless the public-display consent in force
was given by the guardian.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import Department, Member, MemberStatus, Organisation

DEFAULT_MINORS_AGE = 14

COLUMNS = ("display_name", "legal_name", "pin", "card", "department")
MAX_ROWS = 10_000


async def import_csv(session: AsyncSession, org_id: int, text: str) -> tuple[int, list[tuple[int, str]]]:
    """Create a member per good row; returns (created, [(line, message)]). The caller commits."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    if reader.fieldnames is None or "display_name" not in reader.fieldnames:
        return 0, [(1, "the header must name the columns, display_name among them")]
    departments = await _departments_by_name(session, org_id)
    pins = set((await session.execute(select(Member.pin).where(Member.org_id == org_id))).scalars())
    created, errors = 0, []
    for line, row in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            errors.append((line, f"at most {MAX_ROWS} rows per import"))
            break
        problem = _row_problem(row, pins, departments)
        if problem:
            errors.append((line, problem))
            continue
        pin = (row.get("pin") or "").strip() or None
        pins.add(pin)
        session.add(_member(org_id, row, pin, departments))
        created += 1
    await session.flush()
    return created, errors


def _row_problem(row: dict[str, str | None], pins: set[str | None], departments: dict[str, int]) -> str:
    name = (row.get("display_name") or "").strip()
    pin = (row.get("pin") or "").strip()
    department = (row.get("department") or "").strip()
    if None in row:
        return "more fields than the header names"
    if not name or len(name) > 64:
        return "display_name is required (1 to 64 characters)"
    if any(len(v or "") > 200 for v in row.values()) or len(pin) > 32:
        return "a field is too long"
    if any(c < " " for v in row.values() for c in (v or "")):
        return "control characters are not allowed"
    if pin and pin in pins:
        return f"PIN {pin!r} already belongs to another member"
    if department and department not in departments:
        return f"unknown department {department!r}"
    return ""


def _member(org_id: int, row: dict[str, str | None], pin: str | None, departments: dict[str, int]) -> Member:
    department = (row.get("department") or "").strip()
    return Member(
        org_id=org_id,
        display_name=(row.get("display_name") or "").strip(),
        legal_name=(row.get("legal_name") or "").strip() or None,
        pin=pin,
        card=(row.get("card") or "").strip() or None,
        department_id=departments.get(department),
    )


async def _departments_by_name(session: AsyncSession, org_id: int) -> dict[str, int]:
    rows = await session.execute(select(Department.name, Department.id).where(Department.org_id == org_id))
    return {name: ident for name, ident in rows.all()}


async def export_csv(session: AsyncSession, org_id: int) -> str:
    """Every member (erased ones as their pseudonym) as CSV, with id and status."""
    names = {v: k for k, v in (await _departments_by_name(session, org_id)).items()}
    rows = await session.execute(select(Member).where(Member.org_id == org_id).order_by(Member.id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("id", *COLUMNS, "status"))
    writer.writerows(_export_row(m, names) for m in rows.scalars())
    return out.getvalue()


def _export_row(m: Member, names: dict[int, str]) -> Iterable[object]:
    department = names.get(m.department_id) if m.department_id is not None else None
    return (m.id, m.display_name, m.legal_name or "", m.pin or "", m.card or "", department or "", m.status)


def erase(member: Member) -> None:
    """Wipe personal fields; the row stays as a pseudonym so ledger rows and balances stay intact."""
    member.display_name = f"erased-{member.id}"
    member.legal_name = member.pin = member.card = None
    member.phone_enc = member.phone_hmac = member.id_number_enc = None
    member.birth_date_enc = member.guardian_contact_enc = None
    member.status = MemberStatus.ERASED
    member.left_at = member.left_at or utc_now()


def minors_age(org: Organisation) -> int:
    """The organisation's minors age (MIN-1): its setting, else 14."""
    return int(org.settings.get("minors_age") or DEFAULT_MINORS_AGE)


def is_minor(member: Member, age: int, year: int) -> bool:
    """Whether ``member`` counts as a minor in ``year`` for an organisation whose minors age is ``age``."""
    return member.minor or (member.birth_year is not None and member.birth_year >= year - age)


def minor_clause(org_id: int, year: int) -> ColumnElement[bool]:
    """SQL form of ``is_minor`` for members of ``org_id`` (reads the organisation's setting)."""
    age = (
        select(func.coalesce(Organisation.settings["minors_age"].as_integer(), DEFAULT_MINORS_AGE))
        .where(Organisation.id == org_id)
        .scalar_subquery()
    )
    return or_(Member.minor.is_(True), and_(Member.birth_year.is_not(None), Member.birth_year >= year - age))
