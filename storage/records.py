"""SQL storage of a case's written record (one per case; rewritten if the case is reopened and recorded again)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.records import CaseRecord
from storage.tables import Base, BigId, UtcDateTime


class CaseRecordRow(Base):
    __tablename__ = "case_records"

    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    root_cause_category: Mapped[str] = mapped_column(String(64))
    what_happened: Mapped[str] = mapped_column(Text)
    what_fixed: Mapped[str] = mapped_column(Text)
    prevention: Mapped[str | None] = mapped_column(Text)
    process_owner_user_id: Mapped[str | None] = mapped_column(String(32))
    lesson: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


def record_from_row(row: CaseRecordRow) -> CaseRecord:
    return CaseRecord(
        case_id=row.case_id,
        root_cause_category=row.root_cause_category,
        what_happened=row.what_happened,
        what_fixed=row.what_fixed,
        prevention=row.prevention,
        process_owner_user_id=row.process_owner_user_id,
        lesson=row.lesson,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def apply_record(row: CaseRecordRow, record: CaseRecord) -> None:
    row.root_cause_category = record.root_cause_category
    row.what_happened = record.what_happened
    row.what_fixed = record.what_fixed
    row.prevention = record.prevention
    row.process_owner_user_id = record.process_owner_user_id
    row.lesson = record.lesson
    row.recorded_by = record.recorded_by
    row.recorded_at = record.recorded_at
