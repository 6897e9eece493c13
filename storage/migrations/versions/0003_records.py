"""written records, acknowledgement time, reopening, recurrence alerts and process fixes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:11:59.851006
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "recurrence_alerts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurrence_alerts")),
        sa.UniqueConstraint("team_id", "category", "bucket", name=op.f("uq_recurrence_alerts_team_id")),
    )
    op.create_table(
        "case_records",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("root_cause_category", sa.String(length=64), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("what_fixed", sa.Text(), nullable=False),
        sa.Column("prevention", sa.Text(), nullable=True),
        sa.Column("process_owner_user_id", sa.String(length=32), nullable=True),
        sa.Column("lesson", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_records_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_records")),
    )
    op.create_table(
        "process_fixes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_user_id", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["recurrence_alerts.id"],
            name=op.f("fk_process_fixes_alert_id_recurrence_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_fixes")),
    )
    with op.batch_alter_table("process_fixes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_fixes_alert_id"), ["alert_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("closed_notice_ts", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_cases_team_closed", ["team_id", "closed_at"], unique=False)
        batch_op.create_index("ix_cases_team_created", ["team_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_cases_team_root_cause", ["team_id", "root_cause_category", "created_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_team_root_cause")
        batch_op.drop_index("ix_cases_team_created")
        batch_op.drop_index("ix_cases_team_closed")
        batch_op.drop_column("closed_notice_ts")
        batch_op.drop_column("reopen_count")
        batch_op.drop_column("acknowledged_at")

    with op.batch_alter_table("process_fixes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_fixes_alert_id"))

    op.drop_table("process_fixes")
    op.drop_table("case_records")
    op.drop_table("recurrence_alerts")
