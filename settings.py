"""Mend's configuration: read once from the environment (and `.env`), validated before anything starts."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.amends import DEFAULT_POLICY, AmendsPolicy, AmountError, Approvers, Money, load_policy, parse_amount
from bot.cases import (
    DEFAULT_CATEGORY_LABELS,
    DEFAULT_ROOT_CAUSE_LABELS,
    CaseConfig,
    Category,
    categories_from_labels,
)
from bot.clock import parse_duration
from bot.export import ExportLabels
from bot.followups import FollowUpPolicy, WorkingHours
from bot.learning import RecurrenceConfig
from bot.permissions import DEFAULT_EDITORS, CaseEditors
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
    "log_format": "text (one line a record, for people) or json (one JSON object a line, for log pipelines)",
    "process_channel": "the id of the channel for recurrence alerts (e.g. C0123456789), or leave it unset",
    "digest_channel": "the id of the channel for the weekly digest (Mondays 09:00 UTC), or leave it unset",
    "recurrence_threshold": "a whole number from 2 to 100: how many cases with one root cause raise an alert",
    "recurrence_window_days": "a whole number of days from 1 to 90",
    "playbook_file": "the path of a TOML or YAML playbook (see docs/playbook.md), or leave it unset for the default",
    "root_cause_categories": "a comma-separated list such as 'Carrier / logistics, Billing error, Other'",
    "agent_amends_limit": "an amount in the policy's default currency, such as 50 or 49.90, or leave it unset",
    "approver_ids": "comma-separated Slack user ids such as U0123ABCD,U0456EFGH (profile → ⋮ → Copy member ID)",
    "approver_group": "a Slack user group id such as S0123ABCD, or leave it unset",
    "approvals_channel": "a channel id such as C0123456789, or leave it unset to DM each approver",
    "backup_approver_ids": "comma-separated Slack user ids, or leave it unset",
    "approval_escalate_after": "a duration such as 90s, 15m, 4h or 1d",
    "managers": "pairs of agent:manager user ids, e.g. U0AGENT1:U0BOSS1,U0AGENT2:U0BOSS1",
    "policy_file": "the path of a TOML or YAML amends policy (see docs/amends.md), or leave it unset for the default",
    "ack_nudge_after": "a duration such as 90s, 15m, 2h or 1d",
    "follow_up_after": "a duration such as 90s, 15m, 2h or 1d",
    "resurvey_after": "a duration such as 90s, 15m, 2h or 1d",
    "promise_reminder_lead": "a duration such as 90s, 15m, 2h or 1d",
    "follow_up_poll": "a duration such as 1s or 2s",
    "follow_up_lease": "a duration such as 30s or 2m",
    "working_hours": "e.g. '09:00-18:00 Mon-Fri' (each person's own time zone), or 'always'",
    "case_editors": "a comma-separated list of owner, reporter, approvers (e.g. owner,approvers), or anyone",
}

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class DatabaseSettings(BaseSettings):
    """What every command needs: where the data is and how to log. `python app.py export` needs no more."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///mend.db"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

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

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("is not a log level")
        return value.upper()

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> str:
        # Before pydantic's own check, whose "Input should be 'text' or 'json'" reads badly after the name.
        text = str(value).strip().lower()
        if text not in {"text", "json"}:
            raise ValueError(f"is {value!r}, not text or json")
        return text

    def secrets(self) -> list[str]:
        """Every credential these settings hold, for keeping them out of logs."""
        password = make_url(self.database_url).password
        return [str(password)] if password else []


class Settings(DatabaseSettings):
    """Everything serving Mend needs: the database and logs, and the Slack app with its policies."""

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    recovery_channel: str | None = None
    failure_categories: str = ", ".join(DEFAULT_CATEGORY_LABELS)
    root_cause_categories: str = ", ".join(DEFAULT_ROOT_CAUSE_LABELS)
    playbook_file: Path | None = None
    process_channel: str | None = None
    digest_channel: str | None = None
    recurrence_threshold: int = Field(default=3, ge=2, le=100)
    recurrence_window_days: int = Field(default=7, ge=1, le=90)
    agent_amends_limit: str | None = None
    approver_ids: str = ""
    approver_group: str | None = None
    approvals_channel: str | None = None
    backup_approver_ids: str = ""
    approval_escalate_after: str = "4h"
    policy_file: Path | None = None
    managers: str = ""
    ack_nudge_after: str = "15m"
    follow_up_after: str = "1d"
    resurvey_after: str = "14d"
    promise_reminder_lead: str = "1h"
    working_hours: str = "09:00-18:00 Mon-Fri"
    follow_up_poll: str = "2s"
    follow_up_lease: str = "1m"
    case_editors: str = DEFAULT_EDITORS

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

    @field_validator("case_editors")
    @classmethod
    def _case_editors(cls, value: str) -> str:
        CaseEditors.parse(value)
        return value.strip()

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str) -> str:
        WorkingHours.parse(value)
        return value.strip()

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

    @field_validator("recovery_channel", "process_channel", "approvals_channel", "digest_channel")
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

    @field_validator("policy_file")
    @classmethod
    def _policy_file(cls, value: Path | None) -> Path | None:
        if value is not None and str(value).strip():
            load_policy(value)  # a PolicyError (a ValueError) names the file, line and field
            return value
        return None

    @field_validator("approver_ids", "backup_approver_ids")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        for raw in value.split(","):
            if raw.strip() and not _USER_ID.fullmatch(raw.strip()):
                raise ValueError(f"has {raw.strip()!r}, which is not a Slack user id like U0123ABCD")
        return value

    @field_validator("approver_group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"S[A-Z0-9]{2,}", value.strip()):
            raise ValueError("must be a user group id like S0123ABCD, not its @handle")
        return value.strip()

    @field_validator("approval_escalate_after")
    @classmethod
    def _escalate_after(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("agent_amends_limit")
    @classmethod
    def _agent_limit_amount(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            parse_amount(value, "EUR", allow_percent=False)  # the form of it; the currency is checked below
        except AmountError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
        return value.strip()

    @model_validator(mode="after")
    def _agent_limit(self) -> Settings:
        if self.agent_amends_limit is not None and self.agent_amends_limit.strip():
            currency = self.amends_policy(with_limit=False).currency
            try:
                limit = parse_amount(self.agent_amends_limit, currency, allow_percent=False)
            except AmountError as exc:
                raise ValueError(f"AGENT_AMENDS_LIMIT: {exc}") from None
            if not isinstance(limit, Money) or limit.currency != currency:
                raise ValueError(f"AGENT_AMENDS_LIMIT must be in the policy's currency, {currency}")
        return self

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def playbook(self) -> Playbook:
        return load_playbook(self.playbook_file) if self.playbook_file else DEFAULT_PLAYBOOK

    def amends_policy(self, *, with_limit: bool = True) -> AmendsPolicy:
        """The policy file's (or the built-in) policy; AGENT_AMENDS_LIMIT, when set, overrides its limit."""
        policy = load_policy(self.policy_file) if self.policy_file else DEFAULT_POLICY
        if with_limit and self.agent_amends_limit and self.agent_amends_limit.strip():
            limit = parse_amount(self.agent_amends_limit, policy.currency, allow_percent=False)
            assert isinstance(limit, Money)
            policy = policy.with_agent_limit(limit)
        return policy

    def approvers(self) -> Approvers:
        def ids(value: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))

        return Approvers(
            ids=ids(self.approver_ids),
            group_id=self.approver_group,
            backup_ids=ids(self.backup_approver_ids),
            channel_id=self.approvals_channel,
            escalate_after=parse_duration(self.approval_escalate_after),
        )

    def root_cause_category_list(self) -> tuple[Category, ...]:
        return categories_from_labels(self.root_cause_categories.split(","))

    def export_labels(self) -> ExportLabels:
        """The labels an export shows for category and root-cause keys."""
        return ExportLabels(
            categories=self.case_config().categories, root_causes=self.root_cause_category_list()
        )

    def root_cause_label(self, key: str) -> str:
        """What people see for a root-cause key: its label, or the key if it is no longer configured."""
        return next((c.label for c in self.root_cause_category_list() if c.key == key), key)

    @field_validator("managers")
    @classmethod
    def _managers(cls, value: str) -> str:
        parse_managers(value)
        return value

    def manager_map(self) -> dict[str, str]:
        return parse_managers(self.managers)

    def recurrence_config(self) -> RecurrenceConfig:
        return RecurrenceConfig(
            channel_id=self.process_channel,
            threshold=self.recurrence_threshold,
            window=timedelta(days=self.recurrence_window_days),
        )

    def secrets(self) -> list[str]:
        """Every credential Mend holds, for keeping them out of logs."""
        held = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token]
        return [*(s.get_secret_value() for s in held if s is not None), *super().secrets()]

    def follow_up_policy(self) -> FollowUpPolicy:
        return FollowUpPolicy(
            ack_nudge_after=parse_duration(self.ack_nudge_after),
            follow_up_after=parse_duration(self.follow_up_after),
            resurvey_after=parse_duration(self.resurvey_after),
            promise_reminder_lead=parse_duration(self.promise_reminder_lead),
            hours=WorkingHours.parse(self.working_hours),
            approver_ids=tuple(a.strip() for a in self.approver_ids.split(",") if a.strip()),
        )

    def case_editor_rule(self) -> CaseEditors:
        return CaseEditors.parse(self.case_editors)

    def case_config(self) -> CaseConfig:
        return CaseConfig(
            categories=categories_from_labels(self.failure_categories.split(",")),
            recovery_channel_id=self.recovery_channel,
        )


def parse_managers(value: str) -> dict[str, str]:
    """`U1:U9, U2:U9` → who manages whom (for check-ins after hard cases)."""
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        agent, sep, manager = part.partition(":")
        if not sep or not _USER_ID.fullmatch(agent.strip()) or not _USER_ID.fullmatch(manager.strip()):
            raise ValueError(f"{part!r} is not agent:manager with two Slack user ids")
        pairs[agent.strip()] = manager.strip()
    return pairs


class SettingsError(Exception):
    """Every configuration problem at once, worded for the person starting Mend."""


Loaded = TypeVar("Loaded", bound=DatabaseSettings)


def load_settings(**overrides: Any) -> Settings:
    """Everything `python app.py` needs to serve, from the environment (and `.env`) plus `overrides`."""
    return _load(Settings, overrides)


def load_database_settings(**overrides: Any) -> DatabaseSettings:
    """Only the database and logging settings: for commands that never talk to Slack (the export)."""
    return _load(DatabaseSettings, overrides)


def _load(kind: type[Loaded], overrides: dict[str, Any]) -> Loaded:
    try:
        return kind(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            if not error["loc"]:  # a check across settings names its variables itself
                lines.append(f"  - {str(error['msg']).removeprefix('Value error, ').rstrip('.')}.")
                continue
            field = str(error["loc"][0])
            env = field.upper()
            if error["type"] == "missing":
                problem = "is not set"
            else:
                problem = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
            hint = HINTS.get(field)
            lines.append(f"  - {env} {problem}." + (f" Set it to {hint}." if hint else ""))
        raise SettingsError("Mend can't start; fix its configuration:\n" + "\n".join(lines)) from None
