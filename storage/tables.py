"""The relational schema, one ORM class a table; Alembic migrations are written against this metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# A naming convention keeps constraint names identical on SQLite and PostgreSQL, so migrations stay stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite (which has no timezone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    customer_name: Mapped[str | None] = mapped_column(Text)
    customer_ref: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    customer_words: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    source_permalink: Mapped[str | None] = mapped_column(Text)
    reporter_user_id: Mapped[str] = mapped_column(String(32))
    owner_user_id: Mapped[str] = mapped_column(String(32))
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    card_channel_id: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    thread_opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Slack's view id of the report modal: a replayed submission finds its case instead of making another.
    report_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    root_cause_category: Mapped[str | None] = mapped_column(String(64))
    root_cause_details: Mapped[str | None] = mapped_column(Text)
    # When the apology went out: the start of "time to acknowledge", kept here so trends stay cheap.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What the customer was given, one line for the card (kept by storage/amends.py in the granting transaction).
    amends_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The closing summary in the thread; empty while the case is open or the summary is still to post.
    closed_notice_ts: Mapped[str | None] = mapped_column(String(32))
    # Every change bumps `version`; `card_version` is the version the Slack card shows. A card is redrawn
    # only while it lags, so many quick changes cost one chat.update and a failed one is caught up later.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    card_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Catching Slack up after a failure (bot/catch_up.py): who is on it until when, and how often it failed.
    catch_up_lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    catch_up_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_cases_team_state", "team_id", "state"),
        Index("ix_cases_owner_state", "owner_user_id", "state"),
        Index("ix_cases_team_created", "team_id", "created_at"),
        Index("ix_cases_team_closed", "team_id", "closed_at"),
        Index("ix_cases_team_root_cause", "team_id", "root_cause_category", "created_at"),
    )


class CaseEventRow(Base):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    actor_user_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseStepRow(Base):
    """A case's copy of a playbook step, taken when the case opened, and what became of it."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    step_key: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    prompt_channel_id: Mapped[str | None] = mapped_column(String(32))
    prompt_ts: Mapped[str | None] = mapped_column(String(32))
    rendered_status: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("case_id", "step_key"),)
