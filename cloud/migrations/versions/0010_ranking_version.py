"""Ranking version: one counter per organisation, moved with every balance change (response cache key).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``ranking_version`` (no rows: a missing row reads as version 0)."""
    op.create_table(
        "ranking_version",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_ranking_version_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_ranking_version")),
    )


def downgrade() -> None:
    """Drop ``ranking_version``."""
    op.drop_table("ranking_version")
