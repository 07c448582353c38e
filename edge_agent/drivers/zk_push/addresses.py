"""Each push terminal is bound to one IP address: configured, or the first one it was seen from.

Rules:
- a configured address (``addresses`` in the inventory entry) is the binding; nothing is stored;
- otherwise the first address a terminal's SN arrives from becomes its binding and is written at once
  to ``<state_dir>/zk_push-<name>.addresses.json`` (replaced atomically, mode 0600), so a restart
  does not hand the binding to whoever speaks first after it;
- a request naming that SN from any other address is refused by the driver (403, counted, alerted).
  To move a terminal to a new address, configure it, or delete its line from the file and restart.
- a file that cannot be read is logged and treated as empty: terminals rebind on first sight.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


class AddressBook:
    """The address each SN is bound to; ``bound()`` lists them (they bypass the global connection cap)."""

    def __init__(self, configured: Mapping[str, str], path: Path | None) -> None:
        self._configured = dict(configured)
        self._path = path
        self._seen: dict[str, str] = _load(path) if path is not None else {}

    def bound(self) -> frozenset[str]:
        """Every address a terminal is bound to."""
        return frozenset(self._seen.values()) | frozenset(self._configured.values())

    def expected(self, sn: str) -> str | None:
        """The address ``sn`` must come from (None: not bound yet)."""
        return self._configured.get(sn) or self._seen.get(sn)

    async def check(self, sn: str, address: str) -> str | None:
        """None when ``sn`` may push from ``address`` (binding it on first sight); else the bound address."""
        expected = self.expected(sn)
        if expected is None:
            self._seen[sn] = address
            log.info("zk_push terminal %s bound to %s (first seen)", sn, address)
            if self._path is not None:
                await asyncio.to_thread(_save, self._path, dict(self._seen))
            return None
        return None if expected == address else expected


def _load(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.error("zk_push address bindings in %s unreadable, starting empty: %s", path, error)
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(sn): str(address) for sn, address in data.items() if isinstance(address, str)}


def _save(path: Path, seen: Mapping[str, str]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(dict(seen), file, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
