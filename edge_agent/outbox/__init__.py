"""The durable outbox (SQLite, WAL, synchronous=FULL, group commit): see ``store.py``."""

from edge_agent.outbox.rows import AGENT_DEVICE, SHEDDABLE_KINDS
from edge_agent.outbox.schema import SCHEMA_VERSION, SchemaError
from edge_agent.outbox.stats import OutboxStats, read_stats
from edge_agent.outbox.store import Outbox, OutboxClosed, running_outbox
from edge_agent.outbox.writer import OutboxFull

__all__ = [
    "AGENT_DEVICE",
    "SCHEMA_VERSION",
    "SHEDDABLE_KINDS",
    "Outbox",
    "OutboxClosed",
    "OutboxFull",
    "OutboxStats",
    "SchemaError",
    "read_stats",
    "running_outbox",
]
