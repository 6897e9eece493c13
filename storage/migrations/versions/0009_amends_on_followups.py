"""amends escalations on the follow-up engine: pending amends_jobs rows move to follow_ups, amends_jobs goes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:00:00.000000
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The stand-in's kinds and the follow-up kinds that replace them (bot/amends/effects.py).
KINDS = {"amends_remind": "amends_remind", "amends_ask_backups": "amends_backups"}

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
jobs = sa.table(
    "amends_jobs",
    sa.column("id", Id),
    sa.column("kind", sa.String),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("dedupe_key", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("state", sa.String),
)
amends = sa.table("amends", sa.column("id", Id), sa.column("case_id", Id))
follow_ups = sa.table(
    "follow_ups",
    sa.column("kind", sa.String),
    sa.column("case_id", Id),
    sa.column("dedupe_key", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("exact", sa.Boolean),
    sa.column("state", sa.String),
    sa.column("round", sa.Integer),
    sa.column("attempts", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC (storage.tables.UtcDateTime).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upgrade() -> None:
    bind = op.get_bind()
    pending = bind.execute(
        sa.select(jobs.c.kind, jobs.c.due_at, jobs.c.dedupe_key, jobs.c.payload).where(
            jobs.c.state == "pending"
        )
    ).all()
    ids = {int(p["amends_id"]) for _, _, _, p in pending if isinstance((p or {}).get("amends_id"), int)}
    case_of: dict[int, int] = (
        {
            int(a): int(c)
            for a, c in bind.execute(sa.select(amends.c.id, amends.c.case_id).where(amends.c.id.in_(ids)))
        }
        if ids
        else {}
    )
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for kind, due_at, key, payload in pending:
        amends_id = (payload or {}).get("amends_id")
        case_id = case_of.get(amends_id) if isinstance(amends_id, int) else None
        if kind not in KINDS or case_id is None:
            continue  # its request is gone: nobody to remind
        rows.append(
            {
                "kind": KINDS[kind],
                "case_id": case_id,
                # The key the follow-up's request carries is the job's; the table prefixes a case's keys.
                "dedupe_key": f"case:{case_id}:{key}",
                "payload": dict(payload or {}),
                "due_at": _utc(due_at),
                "exact": False,
                "state": "pending",
                "round": 0,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        taken = set(
            bind.execute(
                sa.select(follow_ups.c.dedupe_key).where(
                    follow_ups.c.dedupe_key.in_([r["dedupe_key"] for r in rows])
                )
            ).scalars()
        )
        rows = [r for r in rows if r["dedupe_key"] not in taken]
    if rows:
        op.bulk_insert(follow_ups, rows)

    with op.batch_alter_table("amends_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_amends_jobs_due_at"))
    op.drop_table("amends_jobs")


def downgrade() -> None:
    op.create_table(
        "amends_jobs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
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

    bind = op.get_bind()
    back = {new: old for old, new in KINDS.items()}
    pending = bind.execute(
        sa.select(
            follow_ups.c.kind,
            follow_ups.c.case_id,
            follow_ups.c.dedupe_key,
            follow_ups.c.payload,
            follow_ups.c.due_at,
        ).where(follow_ups.c.kind.in_(list(back)), follow_ups.c.state.in_(["pending", "unknown"]))
    ).all()
    rows = [
        {
            "kind": back[kind],
            "due_at": _utc(due_at),
            "dedupe_key": key.removeprefix(f"case:{case_id}:"),
            "payload": dict(payload or {}),
            "state": "pending",
        }
        for kind, case_id, key, payload, due_at in pending
    ]
    if rows:
        op.bulk_insert(jobs, rows)
    # The older code has no handler for the effect kinds; they would wait for ever.
    bind.execute(sa.delete(follow_ups).where(follow_ups.c.kind.like("amends\\_%", escape="\\")))
