"""The hot ingest queries are index probes, asserted on each engine's own query plan.

SQLite: ``EXPLAIN QUERY PLAN`` must ``SEARCH`` each table by an index on the expected column and
never ``SCAN`` one.
PostgreSQL: ``EXPLAIN`` must show an ``Index Cond`` on the expected column for each table and no
``Seq Scan``, for the statement as the driver sends it (bind parameters, planned with their values,
as ingest plans its reads: ``cloud.db.plan_cache``). On empty tables both planners guess, so the
tables hold a few thousand analysed rows first; a query no index can serve shows a scan on that
same data (the control). A second control: the ``IN`` list of one bind per value that the lookups
used before does not probe the event ids on PostgreSQL (it reads all of the agent's rows).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Executable, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.db.bind_lists import among, bound
from cloud.db.models import Agent, AgentEvent, AttendancePunch, EntrySource, LedgerEntry, Member
from cloud.db.session import SessionFactory
from cloud.domain.attendance import day_key, standing_entries_per_day_statement, standing_entries_statement
from cloud.ingest.admission import (
    known_dedup_keys_statement,
    known_event_ids_statement,
    members_by_pin_statement,
)
from tests.cloud import factories

ROWS = 3000  # enough rows, analysed, that a scan costs more than a probe on both engines


@dataclasses.dataclass(frozen=True)
class Hot:
    what: str
    query: Callable[[int, int, str], Executable]  # (org_id, agent_pk, dialect) → the query
    # Per table (or alias): the column its index probe must be on, or the index it must use.
    probes: dict[str, str]


HOT_QUERIES = [
    Hot(
        "standing entries of the batch's days",
        lambda org, _, d: standing_entries_per_day_statement(d).params(
            org_id=org, day_keys=bound([f"attendance:{n}:2026-11-16" for n in (1, 2)], d)
        ),
        {
            "ledger_entry": "attendance_day",
            # PostgreSQL may anti-join against the whole partial index instead of probing it per
            # row: it holds revocations only, so either way the work is bounded by those few rows.
            "ledger_entry_1": "revokes_id",
            "attendance_punch": "ledger_entry_id",
        },
    ),
    Hot(
        "known event ids",
        lambda _, agent, d: known_event_ids_statement(d).params(
            agent_pk=agent, ids=bound(["event-17", "event-18"], d)
        ),
        {"attendance_punch": "event_id", "agent_event": "event_id"},
    ),
    Hot(
        "known dedup keys",
        lambda _, agent, d: known_dedup_keys_statement(d).params(
            agent_pk=agent, keys=bound(["SN|17", "SN|18"], d)
        ),
        {"attendance_punch": "dedup_key"},
    ),
    Hot(
        "members by PIN",
        lambda org, _, d: members_by_pin_statement(d).params(org_id=org, pins=bound(["17", "18"], d)),
        {"member": "pin"},
    ),
]


@pytest.fixture
async def populated(sessions: SessionFactory, engine: AsyncEngine) -> tuple[int, int]:
    """An organisation with ROWS members, attendance entries and punches; statistics gathered."""
    ids = await _populate(sessions)
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    return ids


async def _populate(sessions: SessionFactory) -> tuple[int, int]:
    """An organisation with ROWS members, attendance entries and punches: (org id, agent pk)."""
    async with sessions() as session:
        t = await factories.tenant(session)
        agent = Agent(agent_id="site-1", org_id=t.org_id)
        members = [Member(org_id=t.org_id, display_name=f"M{n}", pin=str(n)) for n in range(ROWS)]
        session.add_all([agent, *members])
        await session.flush()
        day = dt.date(2026, 11, 16)
        entries = [
            LedgerEntry(
                org_id=t.org_id,
                member_id=m.id,
                point_type_id=t.point_type_id,
                points=2,
                source=EntrySource.ATTENDANCE,
                effective_date=day,
                idempotency_key=day_key(m.id, day),
            )
            for m in members
        ]
        session.add_all(entries)
        await session.flush()
        session.add_all(
            AttendancePunch(
                org_id=t.org_id,
                agent_pk=agent.id,
                event_id=f"event-{n}",
                seq=n,
                device="zk-1",
                pin=m.pin,
                member_id=m.id,
                occurred_at=dt.datetime(2026, 11, 16, 1, tzinfo=dt.UTC),
                device_time="",
                received_at=dt.datetime(2026, 11, 16, 1, tzinfo=dt.UTC),
                verify_mode="card",
                state="check_in",
                dedup_key=f"SN|{n}",
                ledger_entry_id=e.id,
            )
            for n, (m, e) in enumerate(zip(members, entries, strict=True))
        )
        session.add_all(
            AgentEvent(
                org_id=t.org_id,
                agent_pk=agent.id,
                event_id=f"other-{n}",
                seq=n,
                kind="cmd_result",
                device="@agent",
                occurred_at=dt.datetime(2026, 11, 16, 1, tzinfo=dt.UTC),
                data={},
            )
            for n in range(ROWS)
        )
        await session.commit()
        return t.org_id, agent.id


async def _plan(engine: AsyncEngine, query: Executable) -> str:
    """The plan of the statement with its values (on PostgreSQL prepared, the values bound)."""
    if engine.dialect.name == "sqlite":
        sql = str(query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
        async with engine.connect() as connection:
            rows = (await connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))).all()
        return "\n".join(str(row[-1]) for row in rows)
    compiled = query.compile(engine.sync_engine, compile_kwargs={"render_postcompile": True})  # type: ignore[attr-defined]
    values = [compiled.params[name] for name in compiled.positiontup]
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        rows = await (await driver.prepare(f"EXPLAIN {compiled.string}")).fetch(*values)
    return "\n".join(str(row[0]) for row in rows)


def _probes(engine: AsyncEngine, plan: str) -> dict[str, str]:
    """Per table (or alias) in the plan, the text of its index probe condition."""
    lines = plan.splitlines()
    found: dict[str, str] = {}
    if engine.dialect.name == "sqlite":
        # "SEARCH ledger_entry AS ledger_entry_1 USING COVERING INDEX ix_… (revokes_id=?)"
        for line in lines:
            if line.startswith("SEARCH "):
                words = line.split()
                table = words[3] if words[2] == "AS" else words[1]
                found[table] = line
        return found
    # "Index Scan using ix_… on ledger_entry ledger_entry_1" then "Index Cond: (…)"; or a bitmap probe:
    # "Bitmap Heap Scan on attendance_punch", "Bitmap Index Scan on ix_…", then "Index Cond: (…)".
    table = ""
    for line in lines:
        if " on " in line and ("Index" in line or "Bitmap Heap Scan" in line):
            scan = line.split("->")[-1].strip().split(" on ")[0]
            if scan.startswith("Bitmap Index Scan"):
                found[table] = scan
                continue
            words = line.split(" on ", 1)[1].split()
            table = words[1] if len(words) > 1 and not words[1].startswith("(") else words[0]
            found[table] = scan
        elif "Index Cond:" in line and table:
            found[table] += " " + line.strip()
    return found


def _full_scans(engine: AsyncEngine, plan: str) -> list[str]:
    if engine.dialect.name == "sqlite":
        return [line for line in plan.splitlines() if line.startswith("SCAN ")]
    return [line for line in plan.splitlines() if "Seq Scan" in line]


@pytest.mark.parametrize("hot", HOT_QUERIES, ids=[q.what for q in HOT_QUERIES])
async def test_hot_ingest_queries_probe_indexes(
    engine: AsyncEngine, populated: tuple[int, int], hot: Hot
) -> None:
    plan = await _plan(engine, hot.query(*populated, engine.dialect.name))
    assert _full_scans(engine, plan) == [], f"{hot.what}:\n{plan}"
    found = _probes(engine, plan)
    missing = {t: c for t, c in hot.probes.items() if c not in found.get(t, "")}
    assert missing == {}, f"{hot.what}:\n{plan}"


async def test_control_an_in_list_reads_every_row_of_the_agent_on_postgresql(
    engine: AsyncEngine, populated: tuple[int, int]
) -> None:
    """Control: the ``IN`` list the lookups used before, one bind per value.

    PostgreSQL finds the agent's rows and filters them, probing no event id (the plan check sees
    the difference); SQLite probes per value with that list, which is why it keeps it.
    """
    _, agent_pk = populated
    ids = [f"event-{n}" for n in range(128)]
    old: Any = select(AttendancePunch.event_id).where(
        AttendancePunch.agent_pk == agent_pk, AttendancePunch.event_id.in_(ids)
    )
    plan = await _plan(engine, old)
    probes_event_ids = "event_id" in _probes(engine, plan).get("attendance_punch", "")
    assert probes_event_ids == (engine.dialect.name == "sqlite"), plan


async def test_the_plan_check_sees_a_full_scan(engine: AsyncEngine, populated: tuple[int, int]) -> None:
    """Control: the old decision key (``LIKE k || ':%'`` on the key, no other condition) scans."""
    old: Any = select(LedgerEntry.id).where(LedgerEntry.idempotency_key.like("attendance:1:2026-11-16:%"))
    assert _full_scans(engine, await _plan(engine, old)) != []


PROBED_PER_KEY = HOT_QUERIES[:3]  # looked up key by key on PostgreSQL (``bind_lists.key_rows``)
# The same lookups in the ``IN (SELECT unnest(:array))`` form they had on PostgreSQL (the control).
IN_FORMS: dict[str, Callable[[int, int], Executable]] = {
    "standing entries of the batch's days": lambda org, _: standing_entries_statement("postgresql").params(
        org_id=org, day_keys=[f"attendance:{n}:2026-11-16" for n in (1, 2)]
    ),
    "known event ids": lambda _, agent: (
        select(AttendancePunch.event_id)
        .where(AttendancePunch.agent_pk == agent, among(AttendancePunch.event_id, "ids", "postgresql"))
        .params(ids=["event-17", "event-18"])
    ),
    "known dedup keys": lambda _, agent: (
        select(AttendancePunch.dedup_key)
        .where(AttendancePunch.agent_pk == agent, among(AttendancePunch.dedup_key, "keys", "postgresql"))
        .params(keys=["SN|17", "SN|18"])
    ),
    "members by PIN": lambda org, _: (
        select(Member.pin, Member.id)
        .where(Member.org_id == org, among(Member.pin, "pins", "postgresql"))
        .params(pins=["17", "18"])
    ),
}


@pytest.mark.parametrize("hot", PROBED_PER_KEY, ids=[q.what for q in PROBED_PER_KEY])
async def test_lookups_by_key_probe_indexes_on_tables_never_analysed(
    engine: AsyncEngine, sessions: SessionFactory, hot: Hot
) -> None:
    """A table that grew since its last ANALYZE (here: never analysed) looks small to PostgreSQL's
    planner; the lookups still probe an index per key. Control, on PostgreSQL: the ``IN`` form they
    had reads all of the agent's (or the organisation's) rows and filters them."""
    ids = await _populate(sessions)
    plan = await _plan(engine, hot.query(*ids, engine.dialect.name))
    assert _full_scans(engine, plan) == [], f"{hot.what}:\n{plan}"
    missing = {t: c for t, c in hot.probes.items() if c not in _probes(engine, plan).get(t, "")}
    assert missing == {}, f"{hot.what}:\n{plan}"
    if engine.dialect.name == "postgresql":
        in_form = await _plan(engine, IN_FORMS[hot.what](*ids))
        table, column = next(iter(hot.probes.items()))
        assert column not in _probes(engine, in_form).get(table, ""), f"{hot.what} as IN:\n{in_form}"
