"""The value a change carries to schedule a follow-up; a leaf module, so cases and playbook can carry it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FollowUpRequest(BaseModel):
    """A follow-up to create in the same transaction as the change that causes it."""

    model_config = ConfigDict(frozen=True)

    kind: str
    key: str = Field(min_length=1, max_length=160)  # unique per case; the dedupe key is built from it
    due_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)
    recipient_user_id: str | None = None  # None: the case owner at the time it is sent
    exact: bool = False  # True: a time a person chose; delivered then, not moved into working hours
