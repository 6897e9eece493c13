"""SQL storage of recurrence alerts (one per team, root cause and time bucket) and the process fixes they start."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.cases import MessageRef, format_reference
from bot.learning import ProcessFix, RecurrenceAlert, RecurringCase
from storage.db import Database
from storage.tables import Base, BigId, CaseRow, UtcDateTime


class RecurrenceAlertRow(Base):
    __tablename__ = "recurrence_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[int] = mapped_column(BigInteger)
    window_seconds: Mapped[int] = mapped_column(Integer)
    cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("team_id", "category", "bucket"),)


class ProcessFixRow(Base):
    __tablename__ = "process_fixes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("recurrence_alerts.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    owner_user_id: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Slack's view id: a submission repeated (a retry, a double click) stores no second fix.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)


def alert_from_row(row: RecurrenceAlertRow) -> RecurrenceAlert:
    return RecurrenceAlert(
        id=row.id,
        team_id=row.team_id,
        category=row.category,
        cases=tuple(RecurringCase.model_validate(c) for c in row.cases),
        window=timedelta(seconds=row.window_seconds),
        created_at=row.created_at,
        message=MessageRef(channel_id=row.channel_id, ts=row.ts) if row.channel_id and row.ts else None,
    )


def fix_from_row(row: ProcessFixRow) -> ProcessFix:
    return ProcessFix(
        id=row.id,
        alert_id=row.alert_id,
        team_id=row.team_id,
        category=row.category,
        description=row.description,
        owner_user_id=row.owner_user_id,
        due_on=row.due_on,
        created_by=row.created_by,
        created_at=row.created_at,
        submission_key=row.submission_key,
    )


class SqlLearningRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent_with_root_cause(
        self, team_id: str, category: str, since: datetime
    ) -> list[RecurringCase]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(CaseRow.id, CaseRow.customer_name, CaseRow.customer_ref)
                .where(
                    CaseRow.team_id == team_id,
                    CaseRow.root_cause_category == category,
                    CaseRow.created_at >= since,
                )
                .order_by(CaseRow.id)
                .limit(50)
            )
            return [
                RecurringCase(
                    case_id=i, reference=format_reference(i), customer=name or ref or "Unknown customer"
                )
                for i, name, ref in rows
            ]

    async def add_alert(
        self,
        team_id: str,
        category: str,
        bucket: int,
        cases: Sequence[RecurringCase],
        at: datetime,
        window: timedelta,
    ) -> RecurrenceAlert | None:
        row = RecurrenceAlertRow(
            team_id=team_id,
            category=category,
            bucket=bucket,
            window_seconds=int(window.total_seconds()),
            cases=[c.model_dump() for c in cases],
            created_at=at,
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError:
            return None  # another process (or an earlier case) raised this alert already
        return alert_from_row(row)

    async def alert(self, alert_id: int) -> RecurrenceAlert | None:
        async with self._db.transaction() as session:
            row = await session.get(RecurrenceAlertRow, alert_id)
            return alert_from_row(row) if row else None

    async def record_alert_message(self, alert_id: int, ref: MessageRef) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(RecurrenceAlertRow)
                .where(RecurrenceAlertRow.id == alert_id)
                .values(channel_id=ref.channel_id, ts=ref.ts)
            )

    async def add_fix(
        self,
        alert: RecurrenceAlert,
        description: str,
        owner_user_id: str,
        due_on: date,
        created_by: str,
        at: datetime,
        submission_key: str | None = None,
    ) -> ProcessFix:
        row = ProcessFixRow(
            alert_id=alert.id,
            team_id=alert.team_id,
            category=alert.category,
            description=description,
            owner_user_id=owner_user_id,
            due_on=due_on,
            created_by=created_by,
            created_at=at,
            submission_key=submission_key,
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError:
            if submission_key is None:
                raise
            async with self._db.transaction() as session:
                query = select(ProcessFixRow).where(ProcessFixRow.submission_key == submission_key)
                return fix_from_row((await session.execute(query)).scalar_one())
        return fix_from_row(row)

    async def fixes_for(self, alert_id: int) -> list[ProcessFix]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(ProcessFixRow).where(ProcessFixRow.alert_id == alert_id).order_by(ProcessFixRow.id)
            )
            return [fix_from_row(r) for r in rows.scalars()]
