"""Agent retirement: ``agent.retired_at`` (NULL while the agent is in service).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``agent.retired_at`` (existing agents stay in service)."""
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop ``agent.retired_at``."""
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
