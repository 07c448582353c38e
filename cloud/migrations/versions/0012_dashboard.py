"""Display links for the dashboard: ``display_link`` (signed passes for wall screens, revocable).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``display_link``."""
    op.create_table(
        "display_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_display_link_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display_link")),
    )
    op.create_index(op.f("ix_display_link_org_id"), "display_link", ["org_id"], unique=False)


def downgrade() -> None:
    """Drop ``display_link``."""
    op.drop_index(op.f("ix_display_link_org_id"), table_name="display_link")
    op.drop_table("display_link")
