"""amends: one key for one customer (folded: NFKC, invisible characters and punctuation dropped)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 09:00:00.000000
"""

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from bot.amends import fold_customer

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_cases = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("customer_ref", sa.Text),
    sa.column("customer_name", sa.Text),
)
_amends = sa.table(
    "amends",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("customer_key", sa.String),
)


def _rekey(key_of: Callable[[str], str]) -> None:
    """Recompute every request's key from its case, the way `customer_key` does."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            _amends.c.id,
            _amends.c.case_id,
            _cases.c.customer_ref,
            _cases.c.customer_name,
            _amends.c.customer_key,
        ).join(_cases, _cases.c.id == _amends.c.case_id)
    ).all()
    for amends_id, case_id, ref, name, old in rows:
        key = key_of(ref or "") or key_of(name or "") or f"case:{case_id}"
        if key != old:
            bind.execute(sa.update(_amends).where(_amends.c.id == amends_id).values(customer_key=key))


def _before(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())[:200]


def upgrade() -> None:
    # The rule itself, not a copy: a key is only useful if it is the one new requests get.
    _rekey(fold_customer)


def downgrade() -> None:
    _rekey(_before)
