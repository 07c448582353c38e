"""Set-based ingest: indexable attendance-day decisions, indexed revocations, refused-event counts.

``ledger_entry.attendance_day`` replaces the ``key = k OR key LIKE k || ':%'`` day lookup (no index
could serve it) with an equality on ``(org_id, attendance_day)``; existing rows are backfilled from
their keys with the same rule as the model. ``revokes_id`` (partial: revocations only) and
``attendance_punch.ledger_entry_id`` get indexes so "not revoked" and "the punch that earned it"
are index probes; the dedup-key index becomes ``(agent_pk, dedup_key)``, the re-read check's shape.
``agent.refused_events`` counts events refused by the ingest identity checks.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_CHUNK = 1000


def upgrade() -> None:
    """Add the columns and indexes; backfill ``attendance_day`` from the idempotency keys."""
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendance_day", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_ledger_entry_attendance_day", ["org_id", "attendance_day"], unique=False)
        batch_op.create_index(
            "ix_ledger_entry_revokes_id",
            ["revokes_id"],
            unique=False,
            sqlite_where=sa.text("revokes_id IS NOT NULL"),
            postgresql_where=sa.text("revokes_id IS NOT NULL"),
        )
    with op.batch_alter_table("attendance_punch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_punch_ledger_entry_id"), ["ledger_entry_id"], unique=False
        )
        batch_op.create_index("ix_attendance_punch_agent_dedup", ["agent_pk", "dedup_key"], unique=False)
        batch_op.drop_index(batch_op.f("ix_attendance_punch_dedup_key"))
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refused_events", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.alter_column("refused_events", server_default=None)
    _backfill_attendance_days()


def _backfill_attendance_days() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, idempotency_key FROM ledger_entry WHERE idempotency_key LIKE 'attendance:%'")
    ).all()
    # The model's rule (cloud.db.models.points.attendance_day_of), frozen here: the first three fields.
    fields = [(row_id, key.split(":", 3)[:3]) for row_id, key in rows]
    updates = [{"id": row_id, "day": ":".join(day)} for row_id, day in fields if len(day) == 3]
    statement = sa.text("UPDATE ledger_entry SET attendance_day = :day WHERE id = :id")
    for start in range(0, len(updates), BACKFILL_CHUNK):
        connection.execute(statement, updates[start : start + BACKFILL_CHUNK])


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("refused_events")
    with op.batch_alter_table("attendance_punch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_punch_dedup_key"), ["dedup_key"], unique=False)
        batch_op.drop_index("ix_attendance_punch_agent_dedup")
        batch_op.drop_index(batch_op.f("ix_attendance_punch_ledger_entry_id"))
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entry_revokes_id")
        batch_op.drop_index("ix_ledger_entry_attendance_day")
        batch_op.drop_column("attendance_day")
