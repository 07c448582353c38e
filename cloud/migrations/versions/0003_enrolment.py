"""Agent enrolment tokens (ACC-3).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``enrolment_token``."""
    op.create_table(
        "enrolment_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("short_code_hash", sa.String(length=64), nullable=False),
        sa.Column("token_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_agent", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_enrolment_token_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_enrolment_token_site_id_site")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["api_token.id"], name=op.f("fk_enrolment_token_created_by_api_token")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enrolment_token_token_hash")),
        sa.UniqueConstraint("short_code_hash", name=op.f("uq_enrolment_token_short_code_hash")),
    )
    with op.batch_alter_table("enrolment_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_token_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    """Drop ``enrolment_token``."""
    with op.batch_alter_table("enrolment_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_token_org_id"))
    op.drop_table("enrolment_token")
