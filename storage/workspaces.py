"""SQL storage of each workspace's install status (active, uninstalled, tokens revoked)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from bot.workspaces import InstallStatus, Workspace
from storage.db import Database
from storage.tables import Base, UtcDateTime


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SqlWorkspaceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_status(self, team_id: str, status: InstallStatus, at: datetime) -> bool:
        # An upsert that only touches the row when the status really changes, so changed_at stays true
        # and a retried or concurrent event changes nothing.
        insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        values = insert(WorkspaceRow).values(team_id=team_id, status=status.value, changed_at=at)
        statement = values.on_conflict_do_update(
            index_elements=[WorkspaceRow.team_id],
            set_={"status": values.excluded.status, "changed_at": values.excluded.changed_at},
            where=WorkspaceRow.status != values.excluded.status,
        ).returning(WorkspaceRow.team_id)
        async with self._db.transaction() as session:
            return (await session.execute(statement)).first() is not None

    async def get(self, team_id: str) -> Workspace | None:
        async with self._db.transaction() as session:
            row = await session.get(WorkspaceRow, team_id)
            if row is None:
                return None
            return Workspace(team_id=row.team_id, status=InstallStatus(row.status), changed_at=row.changed_at)

    async def is_active(self, team_id: str) -> bool:
        async with self._db.transaction() as session:
            status = (
                await session.execute(select(WorkspaceRow.status).where(WorkspaceRow.team_id == team_id))
            ).scalar_one_or_none()
            return status in (None, InstallStatus.ACTIVE.value)
