"""Append-only, hash-chained audit log (PRIVACY.md AUD-1): pure helpers, no storage.

Theory of operation
- Entry ``n`` stores ``seq = n``, its fields, ``prev_hash`` (the hash of entry ``n-1``; 64 zeros for the
  first) and ``hash = SHA-256(canonical JSON of {"prev": prev_hash, "entry": {seq, **fields}})``.
- The sequence number is inside the hash, so renumbering is an edit; the previous hash is inside it, so
  removing, inserting or reordering breaks the link of the entry that follows.
- ``verify_chain`` walks the entries in the order given (storage returns them ``ORDER BY seq``) and
  reports, per entry: a hash that does not match its content (edited), a ``prev_hash`` that is not the
  previous entry's hash (broken link), a sequence number that does not follow (removed, inserted or
  reordered). After a problem it carries on from the entry as found, so one tamper gives local reports.
- What a chain alone cannot show: the *last* entries removed, or the whole tail rewritten with fresh
  hashes. Pass ``head`` (the latest hash, kept outside the database: a log line, a signed daily digest)
  and ``verify_chain`` checks the chain still ends there.
- Canonical JSON: sorted keys, no spaces, UTF-8, no NaN; aware datetimes as ISO 8601 in UTC, UUIDs as
  text. Store the fields as that JSON text so that what is read back hashes exactly as it was written.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

GENESIS_HASH: Final = "0" * 64


class ProblemKind(enum.Enum):
    """What kind of damage an entry shows."""

    EDITED = "edited"  # the content does not hash to the stored hash
    BROKEN_LINK = "broken link"  # prev_hash is not the hash of the entry before it
    OUT_OF_SEQUENCE = "out of sequence"  # a seq missing, repeated or out of order
    HEAD_MISMATCH = "head mismatch"  # the chain does not end at the anchored head


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """One finding of ``verify_chain``; ``seq`` is the lowest sequence number involved."""

    seq: int
    kind: ProblemKind
    detail: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ChainEntry:
    """One stored audit entry."""

    seq: int
    fields: Mapping[str, Any]
    prev_hash: str
    hash: str

    def hashed_content(self) -> dict[str, Any]:
        """What the hash covers besides ``prev_hash``: the fields and the sequence number."""
        return {**self.fields, "seq": self.seq}


def canonical_json(value: object) -> bytes:
    """The one byte encoding of ``value`` that hashes are computed over."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_encode
    )
    return text.encode()


def entry_hash(prev_hash: str, entry_fields: Mapping[str, Any]) -> str:
    """Hex SHA-256 of an entry's fields chained to the previous entry's hash."""
    return hashlib.sha256(canonical_json({"prev": prev_hash, "entry": entry_fields})).hexdigest()


def append(previous: ChainEntry | None, fields: Mapping[str, Any]) -> ChainEntry:
    """The entry that follows ``previous`` (None: the first entry of a chain)."""
    if "seq" in fields:
        raise ValueError("'seq' is set by the chain, not by the caller")
    seq = previous.seq + 1 if previous else 1
    prev_hash = previous.hash if previous else GENESIS_HASH
    return ChainEntry(
        seq=seq, fields=dict(fields), prev_hash=prev_hash, hash=entry_hash(prev_hash, {**fields, "seq": seq})
    )


def verify_chain(
    entries: Iterable[ChainEntry],
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
    head: str | None = None,
) -> list[Problem]:
    """Every problem found, in chain order (empty: intact); ``problems[0].seq`` is the first bad seq.

    ``after_seq`` / ``after_hash`` start the walk after a verified checkpoint instead of at genesis.
    """
    problems: list[Problem] = []
    last_seq, last_hash = after_seq, after_hash
    for entry in entries:
        problems += _entry_problems(entry, last_seq, last_hash)
        last_seq, last_hash = entry.seq, entry.hash
    if head is not None and last_hash != head:
        detail = (
            f"the chain ends at #{last_seq}, not at the anchored head {head[:12]}…: tail removed or rewritten"
        )
        problems.append(Problem(seq=last_seq, kind=ProblemKind.HEAD_MISMATCH, detail=detail))
    return problems


def _entry_problems(entry: ChainEntry, last_seq: int, last_hash: str) -> list[Problem]:
    problems = []
    expected = last_seq + 1
    if entry.seq != expected:
        detail = f"expected #{expected} after #{last_seq}, found #{entry.seq}: removed, inserted or reordered"
        problems.append(
            Problem(seq=min(expected, entry.seq), kind=ProblemKind.OUT_OF_SEQUENCE, detail=detail)
        )
    if entry.prev_hash != last_hash:
        detail = (
            f"#{entry.seq} does not link to #{last_seq}: an entry before it was changed, removed or inserted"
        )
        problems.append(Problem(seq=entry.seq, kind=ProblemKind.BROKEN_LINK, detail=detail))
    if entry_hash(entry.prev_hash, entry.hashed_content()) != entry.hash:
        detail = f"#{entry.seq} does not match its hash: its content was edited"
        problems.append(Problem(seq=entry.seq, kind=ProblemKind.EDITED, detail=detail))
    return problems


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("audit timestamps must be timezone-aware")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")
