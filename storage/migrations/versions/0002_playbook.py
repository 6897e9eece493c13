"""playbook steps per case

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:59:25.553169
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "case_steps",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("prompt_channel_id", sa.String(length=32), nullable=True),
        sa.Column("prompt_ts", sa.String(length=32), nullable=True),
        sa.Column("rendered_status", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_steps_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_steps")),
        sa.UniqueConstraint("case_id", "step_key", name=op.f("uq_case_steps_case_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("root_cause_category", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("root_cause_details", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("card_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("card_version")
        batch_op.drop_column("version")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("root_cause_details")
        batch_op.drop_column("root_cause_category")

    op.drop_table("case_steps")
