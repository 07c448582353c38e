"""Put a ``SignProgramme`` between the display router and every sign driver of the inventory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from edge_agent.signage.config import SignProgrammeConfig
from edge_agent.signage.programme import ShowsContent, SignProgramme

TITLE_WIDTH_DEFAULT = 16  # a Modbus module's title: 32 GBK bytes, 16 hanzi


def programmes(
    configs: Iterable[object], signs: Mapping[str, ShowsContent], *, link_up: Callable[[], bool]
) -> dict[str, SignProgramme]:
    """One programme per sign, configured by the sign's ``programme`` table."""
    by_name = {
        getattr(c, "name", ""): c
        for c in configs
        if isinstance(getattr(c, "programme", None), SignProgrammeConfig)
    }
    made: dict[str, SignProgramme] = {}
    for name, sign in signs.items():
        config = by_name.get(name)
        settings = getattr(config, "programme", SignProgrammeConfig())
        width = int(getattr(config, "columns", TITLE_WIDTH_DEFAULT))
        made[name] = SignProgramme(name, sign, settings, link_up=link_up, title_width=width)
    return made


def confirm_fresh(made: Mapping[str, SignProgramme]) -> None:
    """The cloud delivered display content: every sign's content is current again."""
    for programme in made.values():
        programme.fresh()
