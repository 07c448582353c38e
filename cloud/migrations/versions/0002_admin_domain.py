"""Admin domain: departments, member fields, consents, data keys, approval workflow, appeals, audit log.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the admin domain's tables and columns."""
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_audit_entry_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("org_id", "seq", name=op.f("uq_audit_entry_org_id_seq")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_action"), ["action"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_audit_head_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_department_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["department.id"], name=op.f("fk_department_parent_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("org_id", "parent_id", "name", name=op.f("uq_department_org_id_parent_id_name")),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_org_id"), ["org_id"], unique=False)

    op.create_table(
        "org_data_key",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_org_data_key_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_org_data_key")),
    )
    op.create_table(
        "authority_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("manager_member_id", sa.Integer(), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_member_id"], ["member.id"], name=op.f("fk_authority_limit_manager_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_authority_limit_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["point_type_id"], ["point_type.id"], name=op.f("fk_authority_limit_point_type_id_point_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_limit")),
        sa.UniqueConstraint(
            "org_id",
            "manager_member_id",
            "point_type_id",
            name=op.f("uq_authority_limit_org_id_manager_member_id_point_type_id"),
        ),
    )
    with op.batch_alter_table("authority_limit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authority_limit_org_id"), ["org_id"], unique=False)

    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("notice_version", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_consent_member_id_member")),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_consent_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index("ix_consent_member_kind", ["org_id", "member_id", "kind", "id"], unique=False)

    op.create_table(
        "ledger_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("submitted_by_token_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_member_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_token_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_token_id"],
            ["api_token.id"],
            name=op.f("fk_ledger_event_decided_by_token_id_api_token"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_ledger_event_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["point_type_id"], ["point_type.id"], name=op.f("fk_ledger_event_point_type_id_point_type")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["point_rule.id"], name=op.f("fk_ledger_event_rule_id_point_rule")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_member_id"],
            ["member.id"],
            name=op.f("fk_ledger_event_submitted_by_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_token_id"],
            ["api_token.id"],
            name=op.f("fk_ledger_event_submitted_by_token_id_api_token"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_event")),
        sa.UniqueConstraint("org_id", "idempotency_key", name=op.f("uq_ledger_event_org_id_idempotency_key")),
    )
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_event_org_id"), ["org_id"], unique=False)

    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("compensation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["compensation_id"], ["ledger_entry.id"], name=op.f("fk_appeal_compensation_id_ledger_entry")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entry.id"], name=op.f("fk_appeal_entry_id_ledger_entry")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_appeal_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal")),
    )
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeal_org_id"), ["org_id"], unique=False)

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_token_member_id_member"), "member", ["member_id"], ["id"]
        )

    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_ledger_entry_event_id"), ["event_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_entry_event_id_ledger_event"), "ledger_event", ["event_id"], ["id"]
        )

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("guardian_contact_enc", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_member_department_id"), ["department_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_member_department_id_department"), "department", ["department_id"], ["id"]
        )

    with op.batch_alter_table("point_rule", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("issues_tickets", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "ranking_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_by_token_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_ranking_snapshot_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["frozen_by_token_id"],
            ["api_token.id"],
            name=op.f("fk_ranking_snapshot_frozen_by_token_id_api_token"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_ranking_snapshot_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["point_type_id"], ["point_type.id"], name=op.f("fk_ranking_snapshot_point_type_id_point_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_snapshot")),
    )
    with op.batch_alter_table("ranking_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ranking_snapshot_period",
            ["org_id", "point_type_id", "period_kind", "period_key"],
            unique=False,
        )

    op.create_table(
        "agent_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=False),
        sa.Column("cmd_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_pk"], ["agent.id"], name=op.f("fk_agent_command_agent_pk_agent")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_agent_command_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_command")),
        sa.UniqueConstraint("cmd_id", name=op.f("uq_agent_command_cmd_id")),
    )
    with op.batch_alter_table("agent_command", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_command_agent_pk"), ["agent_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_command_org_id"), ["org_id"], unique=False)

    with op.batch_alter_table("attendance_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_bands", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("absence_rule_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_attendance_rule_absence_rule_id_point_rule"),
            "point_rule",
            ["absence_rule_id"],
            ["id"],
        )

    op.create_table(
        "attendance_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("created_by_token_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_token_id"],
            ["api_token.id"],
            name=op.f("fk_attendance_correction_created_by_token_id_api_token"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_attendance_correction_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_attendance_correction_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_correction")),
    )
    with op.batch_alter_table("attendance_correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_correction_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    """Remove them again."""
    with op.batch_alter_table("attendance_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_correction_org_id"))

    op.drop_table("attendance_correction")
    with op.batch_alter_table("attendance_rule", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_attendance_rule_absence_rule_id_point_rule"), type_="foreignkey"
        )
        batch_op.drop_column("absence_rule_id")
        batch_op.drop_column("late_bands")
    with op.batch_alter_table("agent_command", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_command_org_id"))
        batch_op.drop_index(batch_op.f("ix_agent_command_agent_pk"))

    op.drop_table("agent_command")
    with op.batch_alter_table("ranking_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_ranking_snapshot_period")

    op.drop_table("ranking_snapshot")
    with op.batch_alter_table("point_rule", schema=None) as batch_op:
        batch_op.drop_column("issues_tickets")
        batch_op.drop_column("needs_review")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_member_department_id_department"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_member_department_id"))
        batch_op.drop_column("left_at")
        batch_op.drop_column("guardian_contact_enc")
        batch_op.drop_column("department_id")
        batch_op.drop_column("card")

    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ledger_entry_event_id_ledger_event"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_ledger_entry_event_id"))
        batch_op.drop_column("event_id")

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_token_member_id_member"), type_="foreignkey")
        batch_op.drop_column("member_id")

    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_org_id"))

    op.drop_table("appeal")
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_event_org_id"))

    op.drop_table("ledger_event")

    op.drop_table("consent")
    with op.batch_alter_table("authority_limit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authority_limit_org_id"))

    op.drop_table("authority_limit")
    op.drop_table("org_data_key")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_org_id"))

    op.drop_table("department")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_action"))

    op.drop_table("audit_entry")
