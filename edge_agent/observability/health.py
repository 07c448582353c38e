"""Readiness: the outbox database answers AND (the link is up OR the oldest unsent event is young).

So a box that lost its uplink stays ready while it can still buffer without anyone noticing the delay
(``ready_max_backlog_age_s``); past that, or with a broken database, it is not ready (503).
"""

from __future__ import annotations

from edge_agent.observability.snapshot import AgentSnapshot


def readiness(snapshot: AgentSnapshot, *, max_backlog_age_s: float) -> dict[str, object]:
    """The ``/readyz`` body; ``ready`` decides 200 or 503, ``reason`` says why not."""
    age = snapshot.outbox.oldest_unacked_age_s if snapshot.outbox else None
    fresh = age is None or age < max_backlog_age_s
    database_ok = snapshot.outbox is not None
    ready = database_ok and (snapshot.link_connected or fresh)
    if not database_ok:
        reason = f"outbox database: {snapshot.database_error}"
    elif not ready:
        reason = f"link down and the oldest unsent event is {age:.0f} s old (limit {max_backlog_age_s:.0f} s)"
    else:
        reason = "ok"
    return {
        "ready": ready,
        "reason": reason,
        "database_ok": database_ok,
        "link_connected": snapshot.link_connected,
        "oldest_unsent_age_s": age,
        "max_backlog_age_s": max_backlog_age_s,
    }
