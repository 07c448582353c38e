"""Display kinds beyond top-N: every kind is projected into a title plus rows or lines (DISP-1/2)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zoneinfo

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cloud.db.models import Agent, Consent, ConsentKind, Department, Display, EntrySource
from cloud.db.session import SessionFactory
from cloud.displays.kinds import mask
from cloud.displays.projection import agent_content
from cloud.domain import ledger
from cloud.domain.periods import today
from firmware_protocols import sync
from tests.cloud import events, factories
from tests.cloud.test_ingest import AGENT, Rig, _ready, rig, this_morning  # noqa: F401  (rig: fixture)
from tests.support.polling import async_wait_for

ALLOWED_SIGN_FIELDS = {"sign", "title", "period", "rows", "kind", "lines"}
ALL_KINDS = ("top_n", "department_table", "red_list", "black_list", "latest_events", "announcement", "clock")


@dataclasses.dataclass(frozen=True)
class Person:
    name: str
    legal: str
    points: int
    department: str | None


PEOPLE = (
    Person("Alice", "Alice Legal", 5, "Sales"),
    Person("Bob", "Bob Legal", 9, "Ops"),
    Person("Carol", "Carol Legal", 1, "Sales"),
    Person("张小三", "张小三 Legal", -2, None),
)


async def seeded(
    sessions: SessionFactory, people: tuple[Person, ...], audience: str = "internal", red_black: bool = True
) -> tuple[int, dict[str, int]]:
    """A tenant whose people earned their points (rule "on time", a secret reason), one sign per kind."""
    async with sessions() as session:
        t = await factories.tenant(session)
        departments: dict[str, int] = {}
        ids: dict[str, int] = {}
        for i, person in enumerate(people):
            m = await factories.member(session, t.org_id, person.name)
            m.legal_name = person.legal
            if person.department is not None:
                if person.department not in departments:
                    department = Department(org_id=t.org_id, name=person.department)
                    session.add(department)
                    await session.flush()
                    departments[person.department] = department.id
                m.department_id = departments[person.department]
            ids[person.name] = m.id
            entry = ledger.NewEntry(
                org_id=t.org_id,
                member_id=m.id,
                point_type_id=t.point_type_id,
                points=person.points,
                source=EntrySource.MANUAL,
                effective_date=today("Asia/Shanghai"),
                idempotency_key=f"k{i}",
                rule_id=t.on_time_rule_id,
                reason=f"SECRET-REASON-{i}",
            )
            await ledger.record_entry(session, entry)
        agent = Agent(agent_id="site-1", org_id=t.org_id)
        session.add(agent)
        await session.flush()
        for kind in ALL_KINDS:
            display = Display(
                org_id=t.org_id,
                agent_pk=agent.id,
                sign=kind,
                point_type_id=t.point_type_id,
                content_kind=kind,
                size=10,
                title=kind.upper(),
                audience=audience,
                announcement_text="Fire drill 3pm\n明天放假" if kind == "announcement" else "",
                show_red_black=red_black,
            )
            session.add(display)
        await session.commit()
        return agent.id, ids


async def signs_of(sessions: SessionFactory, agent_pk: int) -> dict[str, sync.SignContent]:
    async with sessions() as session:
        content = await agent_content(session, await session.get_one(Agent, agent_pk))
        await session.commit()
    return {s.sign: s for s in content.signs}


def ranking(sign: sync.SignContent) -> list[tuple[int, str, int]]:
    return [(r.rank, r.name, r.points) for r in sign.rows]


def test_masked_names_keep_the_first_and_last_character() -> None:
    assert [mask(n) for n in ("张小三", "张三", "A", "Alice", "")] == ["张*三", "张*", "A", "A***e", ""]


async def test_every_kind_is_projected_into_rows_or_lines(sessions: SessionFactory) -> None:
    before = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai"))
    agent_pk, _ = await seeded(sessions, PEOPLE)
    signs = await signs_of(sessions, agent_pk)
    after = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai"))
    top = [(1, "Bob", 9), (2, "Alice", 5), (3, "Carol", 1), (4, "张小三", -2)]
    assert (signs["top_n"].kind, ranking(signs["top_n"]), signs["top_n"].lines) == ("ranking", top, ())
    assert ranking(signs["red_list"]) == top
    assert ranking(signs["black_list"]) == top[::-1]  # worst first, ranks kept
    assert ranking(signs["department_table"]) == [(1, "Ops", 9), (2, "Sales", 6)]  # no department: left out
    latest = signs["latest_events"]
    assert (latest.rows, latest.period) == ((), "")
    assert latest.lines == ("张*三 -2 on time", "C***l +1 on time", "B*b +9 on time", "A***e +5 on time")
    assert signs["announcement"].lines == ("Fire drill 3pm", "明天放假")
    (clock,) = signs["clock"].lines
    assert clock in {moment.strftime("%Y-%m-%d %H:%M") for moment in (before, after)}
    assert {s.kind for s in signs.values()} == {"ranking", *ALL_KINDS[1:]}


async def test_red_and_black_lists_show_nobody_unless_enabled(sessions: SessionFactory) -> None:
    agent_pk, _ = await seeded(sessions, PEOPLE, red_black=False)
    signs = await signs_of(sessions, agent_pk)
    assert signs["red_list"].rows == signs["black_list"].rows == ()
    assert len(signs["top_n"].rows) == len(PEOPLE)  # control: the data is there


async def test_public_kinds_count_and_list_only_consenting_members(sessions: SessionFactory) -> None:
    agent_pk, ids = await seeded(sessions, PEOPLE, audience="public")
    async with sessions() as session:
        org_id = (await session.get_one(Agent, agent_pk)).org_id
        for name, granted in [("Alice", True), ("Bob", True), ("Bob", False)]:  # Bob withdrew
            consent = Consent(
                org_id=org_id,
                member_id=ids[name],
                kind=ConsentKind.PUBLIC_DISPLAY,
                granted=granted,
                notice_version="1",
                actor="self",
            )
            session.add(consent)
        await session.commit()
    signs = await signs_of(sessions, agent_pk)
    assert ranking(signs["department_table"]) == [(1, "Sales", 5)]
    assert signs["latest_events"].lines == ("A***e +5 on time",)
    assert ranking(signs["black_list"]) == [(1, "Alice", 5)]


# What the API admits as names (no control characters, no lone surrogates).
_printable = st.characters(blacklist_categories=("Cc", "Cs"))
_people = st.lists(
    st.builds(
        Person,
        name=st.text(_printable, min_size=1, max_size=12),
        legal=st.text(_printable, min_size=13, max_size=30),
        points=st.integers(-50, 50),
        department=st.none() | st.sampled_from(["D1", "D2"]),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda p: p.name,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=_people)
async def test_only_whitelisted_fields_reach_the_sign_for_every_kind(
    sessions: SessionFactory, people: list[Person]
) -> None:
    async with sessions() as session:  # each example starts from an empty tenant set
        for table in (
            "display",
            "agent",
            "balance",
            "ranking_version",
            "ledger_entry",
            "attendance_rule",
            "point_rule",
            "member",
            "department",
            "point_type",
            "api_token",
            "audit_entry",
            "audit_head",
            "organisation",
        ):
            await session.execute(text(f"DELETE FROM {table}"))
        await session.commit()
    agent_pk, _ = await seeded(sessions, tuple(people))
    async with sessions() as session:
        content = await agent_content(session, await session.get_one(Agent, agent_pk))
        await session.commit()
    payload = sync.encode(content).decode()
    for sign in json.loads(payload)["signs"]:
        assert set(sign) <= ALLOWED_SIGN_FIELDS
        for row in sign["rows"]:
            assert set(row) <= {"rank", "name", "points", "department"}
    assert "SECRET-REASON" not in payload
    for person in people:
        assert person.legal not in payload
    assert sync.decode_display(sync.encode(content)) == content  # within the contract's limits


async def test_red_and_black_lists_and_empty_announcements_are_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    h = await _admin(app)
    base = {"agent_id": "hq-1", "point_type": "A"}
    for kind in ("black_list", "red_list"):
        refused = await client.post(
            "/api/v1/displays", json=base | {"sign": kind, "content_kind": kind}, headers=h
        )
        assert refused.status_code == 422
        assert "show_red_black" in refused.json()["detail"]
    empty = await client.post(
        "/api/v1/displays", json=base | {"sign": "a", "content_kind": "announcement"}, headers=h
    )
    assert empty.status_code == 422
    too_long = base | {"sign": "a", "content_kind": "announcement", "announcement_text": "x" * 65}
    assert (await client.post("/api/v1/displays", json=too_long, headers=h)).status_code == 422
    enabled = base | {"sign": "b", "content_kind": "black_list", "show_red_black": True}
    created = await client.post("/api/v1/displays", json=enabled, headers=h)  # control
    assert created.status_code == 201, created.text
    assert created.json()["content_kind"] == "black_list"
    path = f"/api/v1/displays/{created.json()['id']}"
    switched_off = await client.patch(path, json={"show_red_black": False}, headers=h)
    assert switched_off.status_code == 422
    top = await client.patch(path, json={"content_kind": "top_n", "show_red_black": False}, headers=h)
    assert (top.status_code, top.json()["content_kind"], top.json()["show_red_black"]) == (
        200,
        "top_n",
        False,
    )


async def _admin(app: FastAPI) -> dict[str, str]:
    sessions: SessionFactory = app.state.sessions
    async with sessions() as session:
        t = await factories.tenant(session)
        session.add(Agent(agent_id="hq-1", org_id=t.org_id))
        await session.commit()
    return {"Authorization": f"Bearer {t.token}"}


async def test_latest_events_and_announcements_reach_the_retained_display(rig: Rig) -> None:  # noqa: F811
    transport = httpx.ASGITransport(app=rig.app)
    h = {"Authorization": f"Bearer {rig.token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as http:
        display = {"agent_id": AGENT, "sign": "feed", "point_type": "A", "content_kind": "latest_events"}
        created = await http.post("/api/v1/displays", json=display, headers=h)
        assert created.status_code == 201, created.text

        def showing(lines: tuple[str, ...]) -> sync.SignContent | None:
            for content in reversed(rig.observed.displays):
                signs = {s.sign: s for s in content.signs}
                if "feed" in signs and signs["feed"].lines == lines:
                    return signs["feed"]
            return None

        await async_wait_for(lambda: _ready(showing(())), what="empty feed after creation")
        await rig.send(
            events.batch(events.punch("1", this_morning(8, 0)), events.punch("6", this_morning(9, 5)))
        )
        feed = await async_wait_for(
            lambda: _ready(showing(("张* -1 late", "A***e +2 on time"))), what="latest events"
        )
        assert feed.kind == "latest_events"
        notice = {"content_kind": "announcement", "announcement_text": "Lunch at 12\n食堂"}
        changed = await http.patch(f"/api/v1/displays/{created.json()['id']}", json=notice, headers=h)
        assert changed.status_code == 200, changed.text
        announced = await async_wait_for(
            lambda: _ready(showing(("Lunch at 12", "食堂"))), what="announcement"
        )
        assert announced.kind == "announcement"
