"""Database connection: URL normalisation, engine options per dialect, sessions and health checks."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.errors import StorageUnavailable

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_database_url(url: str) -> str:
    """Accept the URLs platforms hand out (`postgres://`, `postgresql://`, `sqlite:///`) and pick async drivers."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    elif url.startswith("postgresql+psycopg2://") or url.startswith("postgresql+psycopg://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    elif url.startswith("sqlite://"):
        url = "sqlite+aiosqlite://" + url[len("sqlite://") :]
    make_url(url)  # raises ArgumentError on a malformed URL
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class Database:
    """Owns the engine and hands out short transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_database_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if is_sqlite(self.url):
            kwargs = {"echo": echo, "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if is_sqlite(self.url):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self, *, serialise: str | None = None) -> AsyncIterator[AsyncSession]:
        """One short transaction; a database that cannot be reached becomes the domain's StorageUnavailable.

        Transactions given the same `serialise` name run one at a time, and each reads only after the one
        before it committed: PostgreSQL holds an advisory lock on the name until commit; SQLite, which has
        one writer anyway, takes its write lock (`BEGIN IMMEDIATE`) before the first read.
        """
        try:
            async with self.sessions() as session, session.begin():
                if serialise is not None:
                    await self._serialise(session, serialise)
                yield session
        except (IntegrityError, DataError, ProgrammingError):
            raise  # the request or the code is wrong, not the database's availability
        except (DBAPIError, OSError, TimeoutError) as exc:
            # Refused, dropped, locked, restarting, not accepting connections: all "try again shortly".
            raise StorageUnavailable() from exc

    async def _serialise(self, session: AsyncSession, name: str) -> None:
        if is_sqlite(self.url):
            # pysqlite opens a transaction only before a write; an explicit BEGIN first makes it take the
            # write lock now, waiting out another writer for up to the busy timeout.
            await session.execute(text("BEGIN IMMEDIATE"))
        else:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def lock_key(name: str) -> int:
    """A stable signed 64-bit number for a name (Python's `hash` changes between processes)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer writes; the busy timeout makes a locked database wait, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
