"""Displays are projections (PRIVACY.md DISP-1/2): rank, display name, points; no legal names or reasons."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from cloud.db.models import Agent, Consent, ConsentKind, Display, Member
from cloud.db.session import SessionFactory
from cloud.displays.projection import agent_content
from cloud.domain.periods import today
from firmware_protocols import sync
from tests.cloud import factories

ALLOWED_ROW_FIELDS = {"rank", "name", "points", "department"}


async def seeded_agent(sessions: SessionFactory, audience: str, people: list[tuple[str, str, int]]) -> int:
    async with sessions() as session:
        t = await factories.tenant(session)
        for i, (name, legal, points) in enumerate(people):
            m = await factories.member(session, t.org_id, name)
            m.legal_name = legal
            entry = await factories.award(session, t, m.id, points, today("Asia/Shanghai"), f"k{i}")
            entry.reason = f"SECRET-REASON-{i}"
        agent = Agent(agent_id="site-1", org_id=t.org_id)
        session.add(agent)
        await session.flush()
        session.add(
            Display(
                org_id=t.org_id,
                agent_pk=agent.id,
                sign="lobby",
                point_type_id=t.point_type_id,
                size=10,
                title="Top",
                audience=audience,
            )
        )
        await session.commit()
        return agent.id


async def content_for(sessions: SessionFactory, agent_pk: int) -> sync.DisplayContent:
    async with sessions() as session:
        content = await agent_content(session, await session.get_one(Agent, agent_pk))
        await session.commit()
    return content


# What the API admits as names (no control characters, no lone surrogates).
_printable = st.characters(blacklist_categories=("Cc", "Cs"))
_people = st.lists(
    st.tuples(
        st.text(_printable, min_size=1, max_size=12),
        st.text(_printable, min_size=13, max_size=30),
        st.integers(-50, 50),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=_people)
async def test_only_whitelisted_fields_reach_the_sign(
    sessions: SessionFactory, people: list[tuple[str, str, int]]
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
            "point_type",
            "api_token",
            "organisation",
        ):
            await session.execute(text(f"DELETE FROM {table}"))
        await session.commit()
    agent_pk = await seeded_agent(sessions, "internal", people)
    content = await content_for(sessions, agent_pk)
    payload = sync.encode(content).decode()
    body = json.loads(payload)
    for sign in body["signs"]:
        assert set(sign) == {"sign", "title", "period", "rows"}
        for row in sign["rows"]:
            assert set(row) <= ALLOWED_ROW_FIELDS
    assert "SECRET-REASON" not in payload
    for _, legal, _ in people:
        assert legal not in payload
    assert len(content.signs[0].rows) == len(people)


async def test_versions_grow_and_public_displays_list_nobody_without_consent(
    sessions: SessionFactory,
) -> None:
    agent_pk = await seeded_agent(sessions, "public", [("Alice", "Alice Legal-Name", 5)])
    first, second = await content_for(sessions, agent_pk), await content_for(sessions, agent_pk)
    assert second.version == first.version + 1
    assert first.signs[0].rows == ()
    assert first.generated_at.tzinfo is dt.UTC


async def test_public_displays_list_only_members_whose_newest_consent_is_a_grant(
    sessions: SessionFactory,
) -> None:
    people = [("Alice", "A L", 5), ("Bob", "B L", 9), ("Carol", "C L", 1)]
    agent_pk = await seeded_agent(sessions, "public", people)
    async with sessions() as session:
        ids = {m.display_name: m.id for m in (await session.execute(select(Member))).scalars()}
        org_id = (await session.get_one(Agent, agent_pk)).org_id
        decisions = [("Alice", True), ("Bob", True), ("Bob", False), ("Carol", False), ("Carol", True)]
        for name, granted in decisions:  # Bob withdrew; Carol granted after first refusing
            session.add(
                Consent(
                    org_id=org_id,
                    member_id=ids[name],
                    kind=ConsentKind.PUBLIC_DISPLAY,
                    granted=granted,
                    notice_version="1",
                    actor="self",
                )
            )
        await session.commit()
    rows = (await content_for(sessions, agent_pk)).signs[0].rows
    assert [(r.rank, r.name, r.points) for r in rows] == [(1, "Alice", 5), (2, "Carol", 1)]
