"""Roster: site links, credential kinds, per-agent targets and per-device states; data-subject requests.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, other: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{other}.id"], name=op.f(f"fk_{table}_{column}_{other}"))


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    """Create the roster tables and ``privacy_request``."""
    op.create_table(
        "roster_site_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        _fk("roster_site_link", "org_id", "organisation"),
        _fk("roster_site_link", "site_id", "site"),
        _fk("roster_site_link", "department_id", "department"),
        _fk("roster_site_link", "member_id", "member"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_site_link")),
    )
    _index("roster_site_link", "org_id")
    _index("roster_site_link", "site_id")
    op.create_table(
        "roster_credentials",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("roster_credentials", "member_id", "member"),
        _fk("roster_credentials", "org_id", "organisation"),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_roster_credentials")),
    )
    _index("roster_credentials", "org_id")
    op.create_table(
        "roster_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=False),
        sa.Column("pin", sa.String(length=32), nullable=True),
        sa.Column("intended", sa.JSON(), nullable=True),
        sa.Column("cmd_ids", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        _fk("roster_target", "org_id", "organisation"),
        _fk("roster_target", "member_id", "member"),
        sa.ForeignKeyConstraint(["agent_pk"], ["agent.id"], name=op.f("fk_roster_target_agent_pk_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_target")),
        sa.UniqueConstraint("member_id", "agent_pk", name=op.f("uq_roster_target_member_id_agent_pk")),
    )
    for column in ("org_id", "member_id", "agent_pk"):
        _index("roster_target", column)
    op.create_table(
        "roster_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("verified", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("roster_device", "org_id", "organisation"),
        sa.ForeignKeyConstraint(
            ["target_id"], ["roster_target.id"], name=op.f("fk_roster_device_target_id_roster_target")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_device")),
        sa.UniqueConstraint("target_id", "device", name=op.f("uq_roster_device_target_id_device")),
    )
    _index("roster_device", "org_id")
    _index("roster_device", "target_id")
    op.create_table(
        "privacy_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _fk("privacy_request", "org_id", "organisation"),
        _fk("privacy_request", "member_id", "member"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_request")),
    )
    _index("privacy_request", "org_id")
    _index("privacy_request", "member_id")
    op.create_table(
        "roster_check_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=False),
        sa.Column("cmd_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        _fk("roster_check_run", "org_id", "organisation"),
        sa.ForeignKeyConstraint(["agent_pk"], ["agent.id"], name=op.f("fk_roster_check_run_agent_pk_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_check_run")),
    )
    _index("roster_check_run", "org_id")
    _index("roster_check_run", "agent_pk")


def downgrade() -> None:
    """Drop the roster tables and ``privacy_request``."""
    for table in (
        "roster_check_run",
        "privacy_request",
        "roster_device",
        "roster_target",
        "roster_credentials",
        "roster_site_link",
    ):
        op.drop_table(table)
