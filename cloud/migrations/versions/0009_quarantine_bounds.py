"""Quarantine keeps a bounded prefix, the size and a SHA-256 of a payload, once (was: all of it, twice);
event ``seq`` columns take the contract's whole range (BIGINT; were INTEGER, 32 bits on PostgreSQL).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX_BYTES = 64 * 1024  # cloud.ingest.quarantine.PREFIX_BYTES at the time of this migration


SEQ_TABLES = ("attendance_punch", "agent_event")


def upgrade() -> None:
    """Quarantine: size and hash (of existing rows), payloads cut to a prefix, no text copy; BIGINT seq."""
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_size", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("payload_sha256", sa.String(64), nullable=False, server_default=""))
    _fill_size_hash_and_cut()
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.alter_column("payload_size", server_default=None)
        batch_op.alter_column("payload_sha256", server_default=None)
        batch_op.alter_column("payload", new_column_name="payload_prefix")
        batch_op.drop_column("payload_text")
    for table in SEQ_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "seq", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False
            )


def _fill_size_hash_and_cut() -> None:
    table = sa.table(
        "quarantine",
        sa.column("id", sa.Integer()),
        sa.column("payload", sa.LargeBinary()),
        sa.column("payload_size", sa.BigInteger()),
        sa.column("payload_sha256", sa.String()),
    )
    connection = op.get_bind()
    for row_id, payload in connection.execute(sa.select(table.c.id, table.c.payload)).all():
        whole = bytes(payload)
        connection.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(
                payload=whole[:PREFIX_BYTES],
                payload_size=len(whole),
                payload_sha256=hashlib.sha256(whole).hexdigest(),
            )
        )


def downgrade() -> None:
    """Back to the old columns; the payloads stay cut to their prefix (the rest is gone)."""
    for table in SEQ_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "seq", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False
            )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.alter_column("payload_prefix", new_column_name="payload")
        batch_op.add_column(sa.Column("payload_text", sa.Text(), nullable=True))
        batch_op.drop_column("payload_sha256")
        batch_op.drop_column("payload_size")
