"""Every API token expires: tokens made without an expiry get one, and the column becomes NOT NULL.

Decision: an existing token without an expiry is not refused outright (that would lock every
organisation out of its API at the upgrade); it is given ``LEGACY_GRACE`` from the upgrade, the default
lifetime of new tokens, which leaves its owner time to rotate it (``POST /api/v1/tokens/{id}/rotate``).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_GRACE = dt.timedelta(days=90)


def upgrade() -> None:
    """Give never-expiring tokens an expiry ``LEGACY_GRACE`` from now; make ``expires_at`` required."""
    token = sa.table("api_token", sa.column("expires_at", sa.DateTime(timezone=True)))
    expiry = dt.datetime.now(dt.UTC) + LEGACY_GRACE
    if op.get_bind().dialect.name == "sqlite":  # SQLite keeps no offset: UTC without one, as the app does
        expiry = expiry.replace(tzinfo=None)
    op.execute(token.update().where(token.c.expires_at.is_(None)).values(expires_at=expiry))
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    """Allow tokens without an expiry again (the expiries given stay)."""
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=True)
