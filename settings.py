"""Mend's configuration: read once from the environment (and `.env`), validated before anything starts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.cases import (
    DEFAULT_CATEGORY_LABELS,
    DEFAULT_ROOT_CAUSE_LABELS,
    CaseConfig,
    Category,
    categories_from_labels,
)
from bot.followups import FollowUpPolicy, WorkingHours, parse_duration
from bot.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook
from storage.db import normalise_database_url

HINTS = {
    "slack_bot_token": "the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page",
    "slack_signing_secret": "the Signing Secret from your Slack app's Basic Information page",
    "slack_app_token": "an app-level token (xapp-…) with connections:write, or leave it unset to serve HTTP",
    "slack_api_url": "the Web API base URL, e.g. https://slack.com/api/",
    "database_url": "e.g. sqlite:///mend.db or postgresql://user:pass@host/db",
    "port": "a TCP port between 1 and 65535",
    "recovery_channel": "a channel id such as C0123456789 (channel details → About), or leave it unset",
    "failure_categories": "a comma-separated list such as 'Delivery, Billing, Other'",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "playbook_file": "the path of a TOML or YAML playbook (see README), or leave it unset for the default",
    "root_cause_categories": "a comma-separated list such as 'Carrier / logistics, Billing error, Other'",
    "ack_nudge_after": "a duration such as 90s, 15m, 2h or 1d",
    "follow_up_after": "a duration such as 90s, 15m, 2h or 1d",
    "resurvey_after": "a duration such as 90s, 15m, 2h or 1d",
    "promise_reminder_lead": "a duration such as 90s, 15m, 2h or 1d",
    "follow_up_poll": "a duration such as 1s or 2s",
    "follow_up_lease": "a duration such as 30s or 2m",
    "working_hours": "e.g. '09:00-18:00 Mon-Fri' (each person's own time zone), or 'always'",
    "approver_ids": "comma-separated Slack user ids such as U012ABCDEF, U034GHIJKL, or leave it unset",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///mend.db"
    port: int = Field(default=3000, ge=1, le=65535)
    recovery_channel: str | None = None
    failure_categories: str = ", ".join(DEFAULT_CATEGORY_LABELS)
    root_cause_categories: str = ", ".join(DEFAULT_ROOT_CAUSE_LABELS)
    playbook_file: Path | None = None
    log_level: str = "INFO"
    ack_nudge_after: str = "15m"
    follow_up_after: str = "1d"
    resurvey_after: str = "14d"
    promise_reminder_lead: str = "1h"
    working_hours: str = "09:00-18:00 Mon-Fri"
    approver_ids: str = ""
    follow_up_poll: str = "2s"
    follow_up_lease: str = "1m"

    @field_validator(
        "ack_nudge_after",
        "follow_up_after",
        "resurvey_after",
        "promise_reminder_lead",
        "follow_up_poll",
        "follow_up_lease",
    )
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value.strip()

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str) -> str:
        WorkingHours.parse(value)
        return value.strip()

    @field_validator("approver_ids")
    @classmethod
    def _approvers(cls, value: str) -> str:
        for raw in value.split(","):
            if raw.strip() and not re.fullmatch(r"[UW][A-Z0-9]{6,}", raw.strip()):
                raise ValueError(f"{raw.strip()!r} is not a Slack user id (like U012ABCDEF)")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().strip()) < 8:
            raise ValueError("is empty or too short")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value.strip()):
            raise ValueError("must be an http(s) URL")
        return value.strip().rstrip("/") + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = normalise_database_url(value)
        except Exception as exc:
            raise ValueError("is not a database URL") from exc
        if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
            raise ValueError("must be an sqlite:// or postgresql:// URL")
        return url

    @field_validator("recovery_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"[CG][A-Z0-9]{6,}", value.strip()):
            raise ValueError("must be a channel id like C0123456789, not a channel name")
        return value.strip()

    @field_validator("failure_categories", "root_cause_categories")
    @classmethod
    def _categories(cls, value: str) -> str:
        categories_from_labels(value.split(","))
        return value

    @field_validator("playbook_file")
    @classmethod
    def _playbook_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            load_playbook(value)  # a PlaybookError (a ValueError) names the file, line and field
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("is not a log level")
        return value.upper()

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def playbook(self) -> Playbook:
        return load_playbook(self.playbook_file) if self.playbook_file else DEFAULT_PLAYBOOK

    def root_cause_category_list(self) -> tuple[Category, ...]:
        return categories_from_labels(self.root_cause_categories.split(","))

    def follow_up_policy(self) -> FollowUpPolicy:
        return FollowUpPolicy(
            ack_nudge_after=parse_duration(self.ack_nudge_after),
            follow_up_after=parse_duration(self.follow_up_after),
            resurvey_after=parse_duration(self.resurvey_after),
            promise_reminder_lead=parse_duration(self.promise_reminder_lead),
            hours=WorkingHours.parse(self.working_hours),
            approver_ids=tuple(a.strip() for a in self.approver_ids.split(",") if a.strip()),
        )

    def case_config(self) -> CaseConfig:
        return CaseConfig(
            categories=categories_from_labels(self.failure_categories.split(",")),
            recovery_channel_id=self.recovery_channel,
        )


class SettingsError(Exception):
    """Every configuration problem at once, worded for the person starting Mend."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            env = field.upper()
            if error["type"] == "missing":
                problem = "is not set"
            else:
                problem = str(error["msg"]).removeprefix("Value error, ")
            hint = HINTS.get(field)
            lines.append(f"  - {env} {problem}." + (f" Set it to {hint}." if hint else ""))
        raise SettingsError("Mend can't start; fix its configuration:\n" + "\n".join(lines)) from None
