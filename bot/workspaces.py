"""Whether Mend may still talk to a workspace: uninstalls and revoked tokens stop its background sends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from bot.clock import Clock


class InstallStatus(StrEnum):
    ACTIVE = "active"
    UNINSTALLED = "uninstalled"
    TOKENS_REVOKED = "tokens_revoked"


class Workspace(BaseModel):
    model_config = ConfigDict(frozen=True)

    team_id: str
    status: InstallStatus
    changed_at: datetime


class WorkspaceStatus(Protocol):
    """The one question senders ask before talking to a workspace on their own initiative."""

    async def is_active(self, team_id: str) -> bool:
        """False once the app was uninstalled or its bot token revoked; unknown workspaces are active."""
        ...


class WorkspaceRepository(WorkspaceStatus, Protocol):
    async def set_status(self, team_id: str, status: InstallStatus, at: datetime) -> bool:
        """Record the workspace's status; True if it changed."""
        ...

    async def get(self, team_id: str) -> Workspace | None: ...


class WorkspaceService:
    """Follows the install lifecycle Slack reports, so nothing keeps failing against a workspace that left."""

    def __init__(self, repo: WorkspaceRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def is_active(self, team_id: str) -> bool:
        return await self._repo.is_active(team_id)

    async def get(self, team_id: str) -> Workspace | None:
        return await self._repo.get(team_id)

    async def uninstalled(self, team_id: str) -> bool:
        return await self._repo.set_status(team_id, InstallStatus.UNINSTALLED, self._clock.now())

    async def tokens_revoked(self, team_id: str, *, bot_user_ids: Sequence[str]) -> bool:
        """Mend only uses its bot token: revoked user tokens change nothing for it."""
        if not bot_user_ids:
            return False
        return await self._repo.set_status(team_id, InstallStatus.TOKENS_REVOKED, self._clock.now())

    async def token_confirmed(self, team_id: str) -> bool:
        """Slack accepted Mend's token for this workspace (a reinstall, a new token): it is active again."""
        return await self._repo.set_status(team_id, InstallStatus.ACTIVE, self._clock.now())
