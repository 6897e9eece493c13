"""amends: requests and decisions, copies of approval requests, the stand-in escalation queue

Revision ID: 0004
Revises: 0003 (re-chained after the follow-ups branch's 0003 at merge)
Create Date: 2026-11-23 18:10:38.099142
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amends_jobs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amends_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_amends_jobs_dedupe_key")),
    )
    with op.batch_alter_table("amends_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_amends_jobs_due_at"), ["due_at"], unique=False)

    op.create_table(
        "amends",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("customer_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("offered_minor", sa.BigInteger(), nullable=True),
        sa.Column("offered_currency", sa.String(length=3), nullable=True),
        sa.Column("offered_bp", sa.Integer(), nullable=True),
        sa.Column("value_minor", sa.BigInteger(), nullable=True),
        sa.Column("value_currency", sa.String(length=3), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("customer_cost", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("requester_user_id", sa.String(length=32), nullable=False),
        sa.Column("addressed_approver_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("final_minor", sa.BigInteger(), nullable=True),
        sa.Column("final_currency", sa.String(length=3), nullable=True),
        sa.Column("final_bp", sa.Integer(), nullable=True),
        sa.Column("final_value_minor", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("request_notice_channel_id", sa.String(length=32), nullable=True),
        sa.Column("request_notice_ts", sa.String(length=32), nullable=True),
        sa.Column("outcome_channel_id", sa.String(length=32), nullable=True),
        sa.Column("outcome_ts", sa.String(length=32), nullable=True),
        sa.Column("requester_told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_key", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_amends_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amends")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_amends_submission_key")),
    )
    with op.batch_alter_table("amends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_amends_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_amends_team_customer", ["team_id", "customer_key", "requested_at"], unique=False
        )
        batch_op.create_index(
            "ix_amends_team_state_decided", ["team_id", "state", "decided_at"], unique=False
        )

    op.create_table(
        "amends_copies",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("amends_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("backup", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("rendered_version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["amends.id"], name=op.f("fk_amends_copies_amends_id_amends"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amends_copies")),
        sa.UniqueConstraint("amends_id", "recipient", name=op.f("uq_amends_copies_amends_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amends_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("amends_note")

    op.drop_table("amends_copies")
    with op.batch_alter_table("amends", schema=None) as batch_op:
        batch_op.drop_index("ix_amends_team_state_decided")
        batch_op.drop_index("ix_amends_team_customer")
        batch_op.drop_index(batch_op.f("ix_amends_case_id"))

    op.drop_table("amends")
    with op.batch_alter_table("amends_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_amends_jobs_due_at"))

    op.drop_table("amends_jobs")
