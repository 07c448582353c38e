"""Put a ``SignProgramme`` between the display router and every sign driver of the inventory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, runtime_checkable

from edge_agent.signage.config import SignProgrammeConfig
from edge_agent.signage.programme import ShowsContent, SignProgramme

TITLE_WIDTH_DEFAULT = 16  # a Modbus module's title: 32 GBK bytes, 16 hanzi


@runtime_checkable
class ProgrammedSignConfig(Protocol):
    """An inventory entry of a sign (``alpha_sign``, ``modbus_led``)."""

    @property
    def name(self) -> str: ...

    @property
    def programme(self) -> SignProgrammeConfig: ...


def programmes(
    configs: Iterable[object], signs: Mapping[str, ShowsContent], *, link_up: Callable[[], bool]
) -> dict[str, SignProgramme]:
    """One programme per sign, configured by its entry's ``programme`` table (defaults without one).

    The title line's width, for the offline marker, is the Alpha sign's ``columns``, else 16.
    """
    entries = {c.name: c for c in configs if isinstance(c, ProgrammedSignConfig)}
    made: dict[str, SignProgramme] = {}
    for name, sign in signs.items():
        entry = entries.get(name)
        settings = entry.programme if entry is not None else SignProgrammeConfig()
        width = int(getattr(entry, "columns", TITLE_WIDTH_DEFAULT))
        made[name] = SignProgramme(name, sign, settings, link_up=link_up, title_width=width)
    return made


def confirm_fresh(made: Mapping[str, SignProgramme]) -> None:
    """The cloud delivered display content: every sign's content is current again."""
    for programme in made.values():
        programme.fresh()
