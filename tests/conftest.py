"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when MEND_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database, normalise_database_url
from storage.migrate import upgrade_to_head

PG_ENV = "MEND_TEST_DATABASE_URL"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def postgres_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    return url or None


async def reset_postgres(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind; PostgreSQL runs only where a test server is configured."""
    if request.param == "sqlite":
        return normalise_database_url(f"sqlite:///{tmp_path / 'mend-test.db'}")
    url = postgres_url()
    if url is None:
        if os.environ.get("MEND_REQUIRE_POSTGRES"):
            pytest.fail(f"MEND_REQUIRE_POSTGRES is set but {PG_ENV} is not")
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/mend_test); .ci/run sets it"
        )
    await reset_postgres(url)
    return normalise_database_url(url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade_to_head(database)
    yield database
    await database.dispose()
