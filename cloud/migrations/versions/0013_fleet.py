"""Fleet: alert rules, webhooks, alerts, deliveries; agent certificate expiry; cloud-managed inventories.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the four alert tables and the nullable ``agent.cert_expires_at``."""
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cert_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "alert_rules",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name="fk_alert_rules_org_id_organisation"),
        sa.PrimaryKeyConstraint("org_id", name="pk_alert_rules"),
    )
    op.create_table(
        "alert_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name="fk_alert_webhook_org_id_organisation"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_webhook"),
    )
    op.create_index("ix_alert_webhook_org_id", "alert_webhook", ["org_id"])
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("device", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name="fk_alert_org_id_organisation"),
        sa.PrimaryKeyConstraint("id", name="pk_alert"),
    )
    op.create_index(
        "uq_alert_open_key",
        "alert",
        ["org_id", "key"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name="fk_webhook_delivery_org_id_organisation"
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["alert_webhook.id"],
            name="fk_webhook_delivery_webhook_id_alert_webhook",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], name="fk_webhook_delivery_alert_id_alert"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_delivery"),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["done", "next_attempt_at"])
    op.create_table(
        "agent_inventory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("cmd_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name="fk_agent_inventory_org_id_organisation"
        ),
        sa.ForeignKeyConstraint(["agent_pk"], ["agent.id"], name="fk_agent_inventory_agent_pk_agent"),
        sa.PrimaryKeyConstraint("id", name="pk_agent_inventory"),
        sa.UniqueConstraint("agent_pk", "version", name="uq_agent_inventory_agent_pk_version"),
    )
    op.create_index("ix_agent_inventory_org_id", "agent_inventory", ["org_id"])


def downgrade() -> None:
    """Drop the alert tables and ``agent.cert_expires_at``."""
    op.drop_table("agent_inventory")
    op.drop_table("webhook_delivery")
    op.drop_table("alert")
    op.drop_table("alert_webhook")
    op.drop_table("alert_rules")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("cert_expires_at")
