"""process fixes: the submitting modal's view id, so a repeated submission stores one fix

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Fixes stored before this have no key (NULL), and any number of NULLs may share a unique column.
    with op.batch_alter_table("process_fixes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_process_fixes_submission_key"), ["submission_key"])


def downgrade() -> None:
    with op.batch_alter_table("process_fixes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_process_fixes_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
