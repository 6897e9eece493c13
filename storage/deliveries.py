"""SQL log of handled Slack deliveries (Events API event ids): one row per id, shared by every process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Database
from storage.tables import Base, UtcDateTime

MAX_DELIVERY_ID = 64


class ProcessedEventRow(Base):
    __tablename__ = "processed_events"

    # The primary key is the whole point: a second insert of the same id cannot succeed anywhere.
    event_id: Mapped[str] = mapped_column(String(MAX_DELIVERY_ID), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SqlDeliveryLog:
    """Implements the domain's DeliveryLog with insert-if-absent on a primary key."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, delivery_id: str, *, team_id: str | None, at: datetime) -> bool:
        insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        statement = (
            insert(ProcessedEventRow)
            .values(event_id=delivery_id, team_id=team_id, received_at=at)
            .on_conflict_do_nothing(index_elements=[ProcessedEventRow.event_id])
            .returning(ProcessedEventRow.event_id)
        )
        async with self._db.transaction() as session:
            return (await session.execute(statement)).first() is not None

    async def forget_before(self, cutoff: datetime) -> int:
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(ProcessedEventRow).where(ProcessedEventRow.received_at < cutoff)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
