"""Ranking responses kept as the JSON bytes sent, each valid for one ranking version of its organisation.

A cached body is served only while the organisation's ranking version (``ranking_version``) still
reads what it read when the body was computed; any bump makes every body of that organisation a
miss. The cache is bounded in entries and in bytes (least recently used goes first), so no query
mix can grow it; errors are never cached.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Final

from cloud.db.session import SessionFactory
from cloud.domain.ranking_version import StampReader

DEFAULT_MAX_ENTRIES: Final = 1024
DEFAULT_MAX_BYTES: Final = 32 * 1024 * 1024  # a top-500 body is about 40 kB


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RankingKey:
    """Everything a ranking response depends on besides the version: the org, the query, the shape."""

    org_id: int
    role: str  # the role-visible shape: today every role sees the same rows, kept apart all the same
    point_type: str
    period: str
    key: str  # the period key, resolved ("today" in the org's zone when the query gave none)
    department_id: int | None
    order: str
    limit: int
    offset: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Body:
    version: int
    content: bytes


class RankingCache:
    """Pre-serialised ranking bodies by ``RankingKey``, each tagged with the version it was built at."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._bodies: OrderedDict[RankingKey, _Body] = OrderedDict()

    def get(self, key: RankingKey, version: int) -> bytes | None:
        """The body stored for ``key`` at exactly ``version``, or None."""
        body = self._bodies.get(key)
        if body is None or body.version != version:
            return None
        self._bodies.move_to_end(key)
        return body.content

    def put(self, key: RankingKey, version: int, content: bytes) -> None:
        """Store ``content`` computed at ``version`` (a body of a newer version is never replaced)."""
        old = self._bodies.get(key)
        if old is not None:
            if old.version > version:
                return  # a slower request computed at an older version: keep the newer body
            self._drop(key, old)
        if len(content) > self._max_bytes:
            return
        self._bodies[key] = _Body(version, content)
        self._bytes += len(content)
        while len(self._bodies) > self._max_entries or self._bytes > self._max_bytes:
            oldest_key, oldest = next(iter(self._bodies.items()))
            self._drop(oldest_key, oldest)

    def _drop(self, key: RankingKey, body: _Body) -> None:
        del self._bodies[key]
        self._bytes -= len(body.content)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RankingReads:
    """What the ranking route reads with: the cache, the stamps, and read sessions for a miss."""

    cache: RankingCache
    stamps: StampReader
    sessions: SessionFactory
