"""Walk every row of every table and report where a marker appears: text, JSON, bytes, all of it.

Values are rendered the way a database dump would show them (JSON as text, bytes as bytes), so a
marker hidden in a JSON document or in a blob is found as surely as one in a plain column.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import Base


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    table: str
    column: str
    org_id: int | None


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


async def walk(session: AsyncSession, markers: Iterable[bytes]) -> set[Finding]:
    """Every (table, column, owning org) where any of ``markers`` occurs."""
    wanted = list(markers)
    found: set[Finding] = set()
    for table in Base.metadata.sorted_tables:
        for row in (await session.execute(select(table))).mappings():
            org_id = row.get("org_id")
            for column, value in row.items():
                if value is None:
                    continue
                data = _as_bytes(value)
                if any(marker in data for marker in wanted):
                    found.add(Finding(table.name, column, org_id))
    return found


async def rows_of(session: AsyncSession, org_id: int) -> dict[str, int]:
    """Rows per table that carry ``org_id``."""
    counts: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if "org_id" in table.c:
            rows = (await session.execute(select(table.c.org_id).where(table.c.org_id == org_id))).all()
            if rows:
                counts[table.name] = len(rows)
    return counts
