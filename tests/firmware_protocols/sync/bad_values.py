"""Unrepresentable values, generated: where they go in each contract message and how they are sent.

A slot is one field of a message: where it sits in the JSON and what kind of value it holds, which
decides the bad values meaningful for it (an overflowing time for a time, 2^63 for an integer column,
a string one past its bound). NaN, ±Infinity, 1e400, integers past 64 bits and lone surrogates fit
every slot, including deep inside the free JSON of ``data`` and ``args``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Literal

from hypothesis import strategies as st

Kind = Literal["time", "count", "signed", "number", "text", "free"]
Path = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Raw:
    """JSON text put into the payload as is (``1e400``, an integer of 5,000 digits)."""

    text: str


@dataclasses.dataclass(frozen=True)
class Slot:
    path: Path  # keys and list indexes from the message's top-level object
    kind: Kind
    max_len: int = 0  # for text: the bound; 0 when the decoder's check is not a length
    minimum: int = 0  # for count: the least valid value


EVENT: tuple[Slot, ...] = (
    Slot(("id",), "text", 36),
    Slot(("seq",), "count", minimum=1),
    Slot(("kind",), "text", 32),
    Slot(("device",), "text", 64),
    Slot(("occurred_at",), "time"),
    Slot(("device_time",), "text", 64),
    Slot(("received_at",), "time"),
    Slot(("data",), "free"),
)
SLOTS: dict[str, tuple[Slot, ...]] = {
    "batch": (
        Slot(("batch_id",), "text", 64),
        *(dataclasses.replace(s, path=("events", 0, *s.path)) for s in EVENT),
    ),
    "ack": (Slot(("batch_id",), "text", 64), Slot(("event_ids", 0), "text", 36)),
    "display": (
        Slot(("version",), "count"),
        Slot(("generated_at",), "time"),
        Slot(("signs", 0, "sign"), "text", 64),
        Slot(("signs", 0, "title"), "text", 256),
        Slot(("signs", 0, "period"), "text", 32),
        Slot(("signs", 0, "kind"), "text", 32),
        Slot(("signs", 0, "lines"), "free"),  # a list of strings: bad values go in as items
    ),
    "row": (  # a row of the display's first sign (one is appended when the sign has none)
        Slot(("signs", 0, "rows", 0, "rank"), "count", minimum=1),
        Slot(("signs", 0, "rows", 0, "name"), "text", 64),
        Slot(("signs", 0, "rows", 0, "points"), "signed"),
        Slot(("signs", 0, "rows", 0, "department"), "text", 64),
    ),
    "cmd": (
        Slot(("cmd_id",), "text", 64),
        Slot(("expires_at",), "time"),
        Slot(("type",), "text", 64),
        Slot(("args",), "free"),
    ),
    "status": (
        Slot(("agent_version",), "text", 64),
        Slot(("at",), "time"),
        Slot(("backlog_rows",), "count"),
        Slot(("backlog_bytes",), "count"),
        Slot(("oldest_unacked_age_s",), "number"),
        Slot(("dropped",), "count"),
        Slot(("devices",), "free"),
    ),
}

# --- bad values, generated -------------------------------------------------------------------

# Naive bounds: hypothesis draws naive datetimes here, and the offset is attached by hand.
NAIVE_MIN, NAIVE_MAX = dt.datetime.min, dt.datetime.max  # noqa: DTZ901
FIRST_DAY_END = dt.datetime(1, 1, 1, 23, 59, 59)  # noqa: DTZ001
LAST_DAY_START = dt.datetime(9999, 12, 31)  # noqa: DTZ001


def _at_offset(moment: dt.datetime, minutes: int) -> str:
    return moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes))).isoformat()


# Local times on the calendar's last (first) day with an offset west (east) of UTC: in UTC they fall
# past the end (before the start), or within a day of it, where a later local conversion overflows.
overflowing_times = st.builds(
    _at_offset, st.datetimes(min_value=LAST_DAY_START, max_value=NAIVE_MAX), st.integers(-1439, 0)
) | st.builds(_at_offset, st.datetimes(min_value=NAIVE_MIN, max_value=FIRST_DAY_END), st.integers(0, 1439))
naive_times = st.datetimes().map(dt.datetime.isoformat)
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf"), Raw("1e400"), Raw("-1e400")])
beyond_64_bits = st.integers(min_value=2**64) | st.integers(max_value=-(2**63) - 1) | st.just(Raw("9" * 5000))
lone_surrogates = st.builds(
    lambda before, surrogate, after: before + surrogate + after,
    st.text(max_size=4),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(max_size=4),
)
universal = non_finite | beyond_64_bits | lone_surrogates


def bad_values(slot: Slot) -> st.SearchStrategy[object]:
    """Values the slot's field cannot carry: the universal ones, and those meaningful for its kind."""
    match slot.kind:
        case "time":
            return universal | overflowing_times | naive_times
        case "count":
            return universal | st.integers(2**63, 2**64 - 1) | st.integers(-(2**63), slot.minimum - 1)
        case "signed":
            return universal | st.integers(2**63, 2**64 - 1)
        case "text" if slot.max_len:
            return universal | st.text(min_size=slot.max_len + 1, max_size=slot.max_len + 40)
        case _:
            return universal


# --- putting a bad value into a message ------------------------------------------------------


def placed(body: dict[str, Any], slot: Slot, bad: object, nest: int) -> dict[str, Any]:
    """``body`` with ``bad`` at the slot; in free JSON, ``nest`` levels deep under a fresh key."""
    parent: Any = body
    for step in slot.path[:-1]:
        parent = parent[step]
    last = slot.path[-1]
    if slot.kind != "free":
        parent[last] = bad
        return body
    inner: object = bad
    for level in range(nest):
        inner = [inner] if level % 2 else {"k": inner}
    target = parent.setdefault(last, [] if last == "lines" else {})
    if isinstance(target, list):
        target.append(inner)
    else:
        target["zz"] = inner
    return body


def serialised(body: dict[str, Any], bad: object, raw_utf8: bool) -> bytes:
    """JSON bytes of ``body``; lone surrogates either escaped or (``raw_utf8``) as surrogate bytes."""
    marker = "@@raw@@"
    text = json.dumps(body, ensure_ascii=not raw_utf8, default=lambda _: marker)
    if isinstance(bad, Raw):
        text = text.replace(f'"{marker}"', bad.text)
    return text.encode("utf-8", "surrogatepass")
