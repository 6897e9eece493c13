"""Bring the schema up to date with Alembic, on start and from the Procfile's release step."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: PostgreSQL serialises concurrent upgrades from several starting processes on it.
_PG_MIGRATION_LOCK = 73_617_001


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    command.upgrade(alembic_config(connection), "head")


async def upgrade_to_head(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)


def main() -> None:
    """`python -m storage.migrate`: upgrade the database named by DATABASE_URL (used by the release step)."""
    import asyncio
    import os

    from storage.db import normalise_database_url

    url = os.environ.get("DATABASE_URL", "sqlite:///mend.db")

    async def run() -> None:
        db = Database(normalise_database_url(url))
        try:
            await upgrade_to_head(db)
        finally:
            await db.dispose()

    asyncio.run(run())


if __name__ == "__main__":
    main()
