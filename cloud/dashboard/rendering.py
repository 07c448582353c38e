"""The dashboard's templates (jinja2, autoescaped) and its panels rendered as HTML fragments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, Final

import jinja2
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.dashboard import board

TEMPLATES: Final = Path(__file__).parent / "templates"
PANELS: Final = ("ranking", "events", "signs", "sites")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)
environment.filters["hash"] = _short_hash


def render(template: str, **context: Any) -> str:
    """``template`` rendered with ``context``."""
    return environment.get_template(template).render(**context)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Panels:
    """Everything a dashboard shows below its header, read in one session."""

    ranking: board.RankingPanel | None
    events: list[str]
    signs: list[board.SignPreview]
    agents: list[board.AgentPanel]

    def context(self) -> dict[str, Any]:
        return {"ranking": self.ranking, "events": self.events, "signs": self.signs, "agents": self.agents}

    def fragments(self) -> dict[str, str]:
        """Each panel's HTML, keyed by its SSE event name."""
        context = self.context()
        return {name: render(f"{name}.html", **context) for name in PANELS}


async def read_panels(session: AsyncSession, view: board.View, now: dt.datetime) -> Panels:
    """The panels of ``view`` as of ``now``."""
    return Panels(
        ranking=await board.ranking_panel(session, view, now),
        events=await board.latest_events(session, view),
        signs=await board.sign_previews(session, view.org_id, now, view.public_only),
        agents=await board.agent_panels(session, view.org_id),
    )
