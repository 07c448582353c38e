"""Waking the publisher after a roster change was committed."""

from __future__ import annotations

from typing import Protocol


class Publisher(Protocol):
    def commands_queued(self) -> None: ...

    def changed(self, org_id: int) -> None: ...


def wake(publisher: Publisher | None, org_id: int, *, signs: bool = False) -> None:
    """After the commit: deliver the queued commands now, and republish the signs when people left."""
    if publisher is not None:
        publisher.commands_queued()
        if signs:
            publisher.changed(org_id)
