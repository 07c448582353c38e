"""Attendance calendars (work week, holidays, make-up days, shifts, assignments, leave) and the
scheduler's run ledger.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the calendar tables and ``scheduler_run``."""
    op.create_table(
        "calendar_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_calendar_day_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_day")),
        sa.UniqueConstraint("org_id", "day", name=op.f("uq_calendar_day_org_id_day")),
    )
    op.create_table(
        "scheduler_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_scheduler_run_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_run")),
        sa.UniqueConstraint("job", "org_id", "period", name=op.f("uq_scheduler_run_job_org_id_period")),
    )
    op.create_index(op.f("ix_scheduler_run_org_id"), "scheduler_run", ["org_id"], unique=False)
    op.create_table(
        "shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("grace_minutes", sa.Integer(), nullable=False),
        sa.Column("flexible_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_shift_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_shift_org_id_name")),
    )
    op.create_table(
        "work_calendar",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("work_weekdays", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_work_calendar_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_work_calendar")),
    )
    op.create_table(
        "leave_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_leave_record_member_id_member")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_leave_record_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_record")),
    )
    op.create_index(op.f("ix_leave_record_org_id"), "leave_record", ["org_id"], unique=False)
    op.create_table(
        "shift_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_shift_assignment_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_shift_assignment_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_shift_assignment_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"], name=op.f("fk_shift_assignment_shift_id_shift")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_assignment")),
        sa.UniqueConstraint("org_id", "department_id", name=op.f("uq_shift_assignment_org_id_department_id")),
        sa.UniqueConstraint("org_id", "member_id", name=op.f("uq_shift_assignment_org_id_member_id")),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("shift_assignment")
    op.drop_index(op.f("ix_leave_record_org_id"), table_name="leave_record")
    op.drop_table("leave_record")
    op.drop_table("work_calendar")
    op.drop_table("shift")
    op.drop_index(op.f("ix_scheduler_run_org_id"), table_name="scheduler_run")
    op.drop_table("scheduler_run")
    op.drop_table("calendar_day")
