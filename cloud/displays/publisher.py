"""Debounced publication of display content, retained, to ``mpm/v1/{agent}/down/display``.

Rule: a commit that moved an organisation's balances calls ``changed(org)``; every agent of every
changed organisation then gets fresh content. ``debounce_s`` is a minimum interval, not a delay: the
first change after a quiet spell is published at once (time to display), and the changes of a burst
are coalesced into one publication per interval (a thousand awards in a second cost a handful).
``attach`` (each new broker connection) republishes every agent, so a new or restarted broker holds
the retained content again. Retired agents get nothing: no display content, no commands. Content
is built and its version committed before publishing; a failed publish stays pending for the next
connection.

Reads go through read sessions: on SQLite a write session takes the database's single write lock at
its first statement, and ingest, waiting for it in SQLite's busy handler (which sleeps 1, 2, 5, 10,
15, 20, 25 … ms between tries), lost tens of milliseconds per punch while a publication computed its
rankings. The only writes are the version bump (one short transaction per agent) and marking
commands delivered (only when some are due).

Commands ride along: every wake-up (``commands_queued`` or any change) publishes the commands not
yet delivered and not expired (QoS 1, not retained) and then marks them delivered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import aiomqtt
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from cloud.db.base import utc_now
from cloud.db.models import Agent
from cloud.db.session import SessionFactory
from cloud.displays.projection import agent_signs, next_version
from cloud.domain import commands
from firmware_protocols import sync

log = logging.getLogger(__name__)

RETRY_AFTER_DB_ERROR_S = 1.0
_RETIRED_AGENT_IDS = select(Agent.agent_id).where(Agent.retired_at.is_not(None))


class DisplayPublisher:
    """Publishes display content for changed organisations through the currently attached client."""

    def __init__(
        self, sessions: SessionFactory, debounce_s: float, *, read_sessions: SessionFactory | None = None
    ) -> None:
        self._sessions = sessions
        self._reads = read_sessions or sessions
        self._debounce_s = debounce_s
        self._client: aiomqtt.Client | None = None
        self._pending_orgs: set[int] = set()
        self._pending_all = False
        self._wake = asyncio.Event()
        self.published = 0  # count of display messages handed to the broker (for tests and metrics)
        self.commands_sent = 0

    @property
    def pending_orgs(self) -> set[int]:
        """Organisations whose change waits for the next publication."""
        return set(self._pending_orgs)

    def attach(self, client: aiomqtt.Client) -> None:
        """Publish through ``client`` from now on, starting with every agent's content."""
        self._client = client
        self.refresh_all()

    def detach(self) -> None:
        """The connection is gone: keep changes pending until the next ``attach``."""
        self._client = None

    def changed(self, org_id: int) -> None:
        """Balances or displays of ``org_id`` changed: republish its agents soon."""
        self._pending_orgs.add(org_id)
        self._wake.set()

    def commands_queued(self) -> None:
        """New commands wait for delivery: publish them soon."""
        self._wake.set()

    def refresh_all(self) -> None:
        """Republish every agent's content soon."""
        self._pending_all = True
        self._wake.set()

    async def run(self) -> None:
        """Publish pending changes until cancelled."""
        clock = asyncio.get_running_loop().time
        last_publication = -self._debounce_s
        while True:
            await self._wake.wait()
            wait = last_publication + self._debounce_s - clock()
            if wait > 0:
                await asyncio.sleep(wait)  # coalesce the rest of a burst into the next publication
            self._wake.clear()
            last_publication = clock()
            client = self._client
            if client is None:
                continue
            orgs, everything = self._pending_orgs, self._pending_all
            self._pending_orgs, self._pending_all = set(), False
            try:
                await self._publish_commands(client)
                if orgs or everything:
                    await self._publish(client, orgs, everything)
            except (aiomqtt.MqttError, SQLAlchemyError) as exc:
                log.warning("display publication failed, will retry: %s", exc)
                self._pending_orgs |= orgs
                self._pending_all |= everything
                await asyncio.sleep(RETRY_AFTER_DB_ERROR_S)
                self._wake.set()

    async def _publish_commands(self, client: aiomqtt.Client) -> None:
        async with self._reads() as session:
            if not await commands.deliverable(session):
                return
        async with self._sessions() as session:
            retired = set((await session.execute(_RETIRED_AGENT_IDS)).scalars())
            for agent_id, command in await commands.deliverable(session):
                if agent_id in retired:
                    continue  # a retired agent is sent nothing; its commands simply expire
                payload = sync.encode(commands.message(command))
                await client.publish(sync.topic(agent_id, sync.Channel.COMMAND), payload, qos=1)
                command.delivered_at = utc_now()
                await session.commit()  # per command: one that was published is never sent again
                self.commands_sent += 1

    async def _publish(self, client: aiomqtt.Client, orgs: set[int], everything: bool) -> None:
        query = select(Agent).where(Agent.retired_at.is_(None)).order_by(Agent.id)
        if not everything:
            query = query.where(Agent.org_id.in_(orgs))
        async with self._reads() as session:
            agents = list((await session.execute(query)).scalars())
        for agent in agents:
            now = dt.datetime.now(dt.UTC)
            async with self._reads() as session:
                signs = await agent_signs(session, agent, now)
            async with self._sessions() as session:
                version = await next_version(session, agent.id)
                await session.commit()
            content = sync.DisplayContent(version=version, generated_at=now, signs=signs)
            await client.publish(
                sync.topic(agent.agent_id, sync.Channel.DISPLAY), sync.encode(content), qos=1, retain=True
            )
            self.published += 1
