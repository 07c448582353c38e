"""The running agent's own state for ``mpm-agent status``: supervised tasks and LAN server counters.

``status`` runs as another process and reads the outbox database directly; what lives only in the
agent's memory is written next to it, ``<outbox>.runtime.json`` (mode 0600, replaced atomically).
It is looked at on every task state change and every ``interval_s`` seconds, and written only when
it changed (an SD card is not rewritten every few seconds by an idle agent); ``updated_at`` is the
time of that change. A stopped agent leaves its last state behind, marked by its pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

StateSource = Callable[[], Mapping[str, object]]


def runtime_state_path(outbox_path: Path) -> Path:
    """Where the agent using ``outbox_path`` writes its runtime state."""
    return outbox_path.with_name(outbox_path.stem + ".runtime.json")


def write_runtime_state(path: Path, state: Mapping[str, object]) -> None:
    """Replace ``path`` with ``state`` (plus pid and time) atomically."""
    body = {"pid": os.getpid(), "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(body | dict(state), file, ensure_ascii=False, sort_keys=True)
    os.replace(temporary, path)


def read_runtime_state(path: Path) -> dict[str, Any] | None:
    """The last state written, or None when there is none or it cannot be read."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


async def publish_runtime_state(
    path: Path, source: StateSource, changed: asyncio.Event, *, interval_s: float = 2.0
) -> None:
    """Write ``source()`` to ``path`` when it differs from the last write: looked at whenever ``changed``
    is set and every ``interval_s`` seconds."""
    written: Mapping[str, object] | None = None
    while True:
        changed.clear()
        state = source()
        if state != written:
            await asyncio.to_thread(write_runtime_state, path, state)
            written = state
        # asyncio.timeout, not wait_for: on Python 3.11, wait_for swallows a cancellation that arrives
        # as the event is set, and this loop then never ends (a flapping driver at shutdown did that).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval_s):
                await changed.wait()
