"""Authenticated principals remembered for a few seconds, so a request need not look its token up.

Revocation rule: a revocation through this process forgets the token at once (``forget``); one made
by another process (another API replica, the CLI) takes effect here within ``ttl_s`` at most,
because an entry is trusted for ``ttl_s`` after its look-up and then looked up again. A token's own
expiry is checked on every hit, so caching never stretches a lifetime. Only live tokens are cached:
an unknown token is looked up every time (nothing a caller can fill the cache with).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import Final, Generic, TypeVar

from cloud.db.base import utc_now

DEFAULT_TTL_S: Final = 2.0  # the bound on how late another process's revocation is seen here
DEFAULT_MAX_ENTRIES: Final = 10_000

P = TypeVar("P")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _Entry(Generic[P]):
    principal: P
    token_id: int
    expires_at: dt.datetime | None  # the token's own expiry
    trusted_until: float  # monotonic clock


class PrincipalCache(Generic[P]):
    """Token hash → principal, each entry trusted for ``ttl_s`` seconds; bounded in entries."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, _Entry[P]] = {}

    def get(self, token_hash: str) -> P | None:
        """The principal of ``token_hash`` if looked up less than ``ttl_s`` ago and not expired."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expired = entry.expires_at is not None and entry.expires_at <= utc_now()
        if expired or entry.trusted_until <= self._clock():
            del self._entries[token_hash]
            return None
        return entry.principal

    def put(self, token_hash: str, principal: P, *, token_id: int, expires_at: dt.datetime | None) -> None:
        """Remember a principal just looked up in the database."""
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest look-up goes first
        trusted_until = self._clock() + self._ttl_s
        self._entries[token_hash] = _Entry(
            principal=principal, token_id=token_id, expires_at=expires_at, trusted_until=trusted_until
        )

    def forget(self, token_id: int) -> None:
        """Drop token ``token_id`` (just revoked): its next use is looked up again."""
        stale = [h for h, entry in self._entries.items() if entry.token_id == token_id]
        for token_hash in stale:
            del self._entries[token_hash]
