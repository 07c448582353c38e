"""Attendance completeness (shift end, early leave, full attendance) and minors (birth year, flag).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE_COLUMNS = ("early_leave_rule_id", "full_attendance_rule_id")


def upgrade() -> None:
    """Add the early-leave / full-attendance rule columns and the member's minor fields."""
    with op.batch_alter_table("attendance_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shift_end", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("early_leave_bands", sa.JSON(), nullable=False, server_default="[]"))
        for column in RULE_COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_attendance_rule_{column}_point_rule"), "point_rule", [column], ["id"]
            )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("minor", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("minor")
        batch_op.drop_column("birth_year")
    with op.batch_alter_table("attendance_rule", schema=None) as batch_op:
        for column in RULE_COLUMNS:
            batch_op.drop_constraint(
                batch_op.f(f"fk_attendance_rule_{column}_point_rule"), type_="foreignkey"
            )
            batch_op.drop_column(column)
        batch_op.drop_column("early_leave_bands")
        batch_op.drop_column("shift_end")
