"""catching Slack up: lease and failures per case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:16:56.456512
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("catch_up_lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("catch_up_failures", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("catch_up_failures")
        batch_op.drop_column("catch_up_lease_until")
