"""The periodic fleet round: evaluate every organisation's alert rules, send again inventories that a
broker lost, then send the webhooks that are due.

Time comes from an injected ``clock``, so tests move it past a threshold instead of waiting. Rounds
in one process never overlap (a lock), so a round started by hand and one started by the loop
cannot send a delivery twice. This is a small self-contained loop; a shared scheduler may run
``run_round`` instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Final

from cloud.db.base import utc_now
from cloud.db.session import SessionFactory
from cloud.fleet.evaluation import Evaluation, evaluate
from cloud.fleet.inventory import resend_unanswered
from cloud.fleet.webhooks import ATTEMPT_TIMEOUT_S, DeliveryRound, Post, deliver_due, httpx_post

log = logging.getLogger(__name__)
ROUND_PERIOD_S: Final = 30.0

Clock = Callable[[], dt.datetime]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RoundReport:
    evaluation: Evaluation
    deliveries: DeliveryRound


class FleetAlerts:
    """Evaluates the alert rules and delivers webhooks, on ``clock``'s time."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        clock: Clock = utc_now,
        post: Post = httpx_post,
        attempt_timeout_s: float = ATTEMPT_TIMEOUT_S,
    ) -> None:
        self.sessions, self.clock, self.post = sessions, clock, post
        self.attempt_timeout_s = attempt_timeout_s
        self.commands_queued: Callable[[], None] = lambda: None  # the publisher's wake-up, when there is one
        self._lock = asyncio.Lock()

    async def run_round(self) -> RoundReport:
        """One evaluation (committed) and one delivery round (committed)."""
        async with self._lock:
            now = self.clock()
            async with self.sessions() as session:
                evaluation = await evaluate(session, now)
                resent = await resend_unanswered(session, now)
                await session.commit()
            if resent:
                log.info("inventories sent again (unanswered): %s", [(i.agent_pk, i.version) for i in resent])
                self.commands_queued()
            for alert in evaluation.raised:
                log.warning("alert raised: %s (organisation %s)", alert.key, alert.org_id)
            for alert in evaluation.resolved:
                log.info("alert resolved: %s (organisation %s)", alert.key, alert.org_id)
            async with self.sessions() as session:
                deliveries = await deliver_due(
                    session, self.post, now, attempt_timeout_s=self.attempt_timeout_s
                )
                await session.commit()
            return RoundReport(evaluation=evaluation, deliveries=deliveries)

    async def run(self, period_s: float = ROUND_PERIOD_S) -> None:
        """A round every ``period_s``; a failed round is logged and the next one tries again."""
        while True:
            try:
                await self.run_round()
            except Exception:
                log.exception("fleet alert round failed; next one in %.0f s", period_s)
            await asyncio.sleep(period_s)
