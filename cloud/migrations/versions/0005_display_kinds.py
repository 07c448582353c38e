"""Display content kinds: the announcement text and the red/black list switch of a display.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``display.announcement_text`` and ``display.show_red_black`` (existing rows: empty, off)."""
    with op.batch_alter_table("display", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("announcement_text", sa.String(length=1300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("show_red_black", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The server defaults only fill existing rows; the models give the defaults from here on.
    with op.batch_alter_table("display", schema=None) as batch_op:
        batch_op.alter_column("announcement_text", server_default=None)
        batch_op.alter_column("show_red_black", server_default=None)


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("display", schema=None) as batch_op:
        batch_op.drop_column("show_red_black")
        batch_op.drop_column("announcement_text")
