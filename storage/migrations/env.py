"""Alembic environment: uses the connection Mend hands it, or DATABASE_URL when run from the alembic CLI."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

import storage.followups  # noqa: F401  (its tables join Base.metadata for autogenerate)
from storage.db import Database
from storage.tables import Base

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url() -> None:
    db = Database(os.environ.get("DATABASE_URL", "sqlite:///mend.db"))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(run_with)
    finally:
        await db.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_from_url())
