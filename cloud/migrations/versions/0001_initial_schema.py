"""Initial schema: every table of the spine (tenancy, members, points, attendance, displays, quarantine).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 01:19:00.052226

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_text", sa.Text(), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_api_token_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_org_id"), ["org_id"], unique=False)

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=True),
        sa.Column("pin", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hmac", sa.String(length=64), nullable=True),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=True),
        sa.Column("birth_date_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_member_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("org_id", "pin", name=op.f("uq_member_org_id_pin")),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_phone_hmac"), ["phone_hmac"], unique=False)

    op.create_table(
        "point_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_point_type_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_type")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_point_type_org_id_code")),
    )
    with op.batch_alter_table("point_type", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_type_org_id"), ["org_id"], unique=False)

    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_site_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_org_id"), ["org_id"], unique=False)

    op.create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("last_status", sa.JSON(), nullable=True),
        sa.Column("last_status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("display_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_agent_org_id_organisation")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_agent_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_agent_agent_id")),
    )
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_org_id"), ["org_id"], unique=False)

    op.create_table(
        "balance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_balance_member_id_member")),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_balance_org_id_organisation")),
        sa.ForeignKeyConstraint(
            ["point_type_id"], ["point_type.id"], name=op.f("fk_balance_point_type_id_point_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance")),
        sa.UniqueConstraint(
            "org_id",
            "point_type_id",
            "period_kind",
            "period_key",
            "member_id",
            name="uq_balance_period_member",
        ),
    )
    with op.batch_alter_table("balance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_balance_ranking",
            ["org_id", "point_type_id", "period_kind", "period_key", "points"],
            unique=False,
        )

    op.create_table(
        "point_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("min_points", sa.Integer(), nullable=True),
        sa.Column("max_points", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_point_rule_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["point_type_id"], ["point_type.id"], name=op.f("fk_point_rule_point_type_id_point_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_rule")),
    )
    with op.batch_alter_table("point_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_rule_org_id"), ["org_id"], unique=False)

    op.create_table(
        "agent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_pk"], ["agent.id"], name=op.f("fk_agent_event_agent_pk_agent")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_agent_event_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_event")),
        sa.UniqueConstraint("agent_pk", "event_id", name=op.f("uq_agent_event_agent_pk_event_id")),
    )
    with op.batch_alter_table("agent_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_event_org_id"), ["org_id"], unique=False)

    op.create_table(
        "attendance_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("shift_start", sa.Time(), nullable=False),
        sa.Column("on_time_rule_id", sa.Integer(), nullable=False),
        sa.Column("late_rule_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["late_rule_id"], ["point_rule.id"], name=op.f("fk_attendance_rule_late_rule_id_point_rule")
        ),
        sa.ForeignKeyConstraint(
            ["on_time_rule_id"], ["point_rule.id"], name=op.f("fk_attendance_rule_on_time_rule_id_point_rule")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_attendance_rule_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_rule")),
    )
    with op.batch_alter_table("attendance_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_rule_org_id"), ["org_id"], unique=False)

    op.create_table(
        "display",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=False),
        sa.Column("sign", sa.String(length=64), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("content_kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_pk"], ["agent.id"], name=op.f("fk_display_agent_pk_agent")),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_display_org_id_organisation")),
        sa.ForeignKeyConstraint(
            ["point_type_id"], ["point_type.id"], name=op.f("fk_display_point_type_id_point_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display")),
        sa.UniqueConstraint("agent_pk", "sign", name=op.f("uq_display_agent_pk_sign")),
    )
    with op.batch_alter_table("display", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_display_org_id"), ["org_id"], unique=False)

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revokes_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_ledger_entry_member_id_member")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_ledger_entry_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["point_type_id"], ["point_type.id"], name=op.f("fk_ledger_entry_point_type_id_point_type")
        ),
        sa.ForeignKeyConstraint(
            ["revokes_id"], ["ledger_entry.id"], name=op.f("fk_ledger_entry_revokes_id_ledger_entry")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["point_rule.id"], name=op.f("fk_ledger_entry_rule_id_point_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("org_id", "idempotency_key", name=op.f("uq_ledger_entry_org_id_idempotency_key")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entry_member_date", ["org_id", "member_id", "effective_date"], unique=False
        )

    op.create_table(
        "attendance_punch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("pin", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_time", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verify_mode", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_pk"], ["agent.id"], name=op.f("fk_attendance_punch_agent_pk_agent")),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_attendance_punch_ledger_entry_id_ledger_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_attendance_punch_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_attendance_punch_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_punch")),
        sa.UniqueConstraint("agent_pk", "event_id", name=op.f("uq_attendance_punch_agent_pk_event_id")),
    )
    with op.batch_alter_table("attendance_punch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_punch_dedup_key"), ["dedup_key"], unique=False)
        batch_op.create_index(
            "ix_attendance_punch_member_time", ["org_id", "member_id", "occurred_at"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table("attendance_punch", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_punch_member_time")
        batch_op.drop_index(batch_op.f("ix_attendance_punch_dedup_key"))

    op.drop_table("attendance_punch")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entry_member_date")

    op.drop_table("ledger_entry")
    with op.batch_alter_table("display", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_display_org_id"))

    op.drop_table("display")
    with op.batch_alter_table("attendance_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_rule_org_id"))

    op.drop_table("attendance_rule")
    with op.batch_alter_table("agent_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_event_org_id"))

    op.drop_table("agent_event")
    with op.batch_alter_table("point_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_rule_org_id"))

    op.drop_table("point_rule")
    with op.batch_alter_table("balance", schema=None) as batch_op:
        batch_op.drop_index("ix_balance_ranking")

    op.drop_table("balance")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_org_id"))

    op.drop_table("agent")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_org_id"))

    op.drop_table("site")
    with op.batch_alter_table("point_type", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_type_org_id"))

    op.drop_table("point_type")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_phone_hmac"))
        batch_op.drop_index(batch_op.f("ix_member_org_id"))

    op.drop_table("member")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_org_id"))

    op.drop_table("api_token")
    op.drop_table("quarantine")
    op.drop_table("organisation")
