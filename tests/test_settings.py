"""Configuration: every problem named at once, a clean exit code 2, and Heroku-style URLs accepted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.permissions import CaseEditors, Editor
from settings import SettingsError, load_database_settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"slack_bot_token": "xoxb-123", "slack_signing_secret": "0123456789abcdef"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(
            (
                "SLACK_",
                "DATABASE_URL",
                "RECOVERY_",
                "FAILURE_",
                "PORT",
                "LOG_",
                "APPROV",
                "AGENT_",
                "POLICY_",
                "CASE_EDITORS",
            )
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    settings = load_settings(**GOOD)
    assert settings.port == 3000
    assert settings.database_url == "sqlite+aiosqlite:///mend.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode
    assert [c.key for c in settings.case_config().categories][:2] == ["delivery", "billing"]


def test_heroku_postgres_url_is_normalised() -> None:
    settings = load_settings(**GOOD, database_url="postgres://u:p@db.example:5432/mend")
    assert settings.database_url == "postgresql+asyncpg://u:p@db.example:5432/mend"


def test_secrets_are_not_shown_in_repr() -> None:
    settings = load_settings(**GOOD)
    assert "xoxb-123" not in repr(settings) and "0123456789abcdef" not in str(settings)


def test_every_problem_is_named() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(
            slack_bot_token="xoxp-user-token",
            slack_app_token="nope",
            port=70000,
            recovery_channel="#support",
            failure_categories="Billing, billing",
        )
    message = str(info.value)
    for env in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "PORT",
        "RECOVERY_CHANNEL",
        "FAILURE_CATEGORIES",
    ):
        assert env in message
    assert "Traceback" not in message


def test_custom_categories_and_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILURE_CATEGORIES", "Late flight, Lost bag, Other")
    monkeypatch.setenv("RECOVERY_CHANNEL", "C0RECOVERY")
    config = load_settings(**GOOD).case_config()
    assert [c.label for c in config.categories] == ["Late flight", "Lost bag", "Other"]
    assert config.recovery_channel_id == "C0RECOVERY"


def test_app_exits_2_with_a_clear_message_and_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PORT"] = "not-a-port"
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in result.stderr and "PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_amends_settings_are_checked_and_named(tmp_path: Path) -> None:
    settings = load_settings(
        **GOOD,
        agent_amends_limit="75",
        approver_ids="U0AAA, U0BBB",
        approver_group="S0LEADS",
        backup_approver_ids="U0CCC",
        approval_escalate_after="90m",
    )
    approvers = settings.approvers()
    assert approvers.ids == ("U0AAA", "U0BBB") and approvers.backup_ids == ("U0CCC",)
    assert approvers.escalate_after.total_seconds() == 5400
    assert str(settings.amends_policy().agent_limit) == "€75.00"
    bad_policy = tmp_path / "policy.yaml"
    bad_policy.write_text("agent_limit: -3\n")
    with pytest.raises(SettingsError) as info:
        load_settings(
            **GOOD,
            agent_amends_limit="lots",
            approver_ids="@carol",
            approver_group="@leads",
            approvals_channel="#approvals",
            approval_escalate_after="soon",
            policy_file=bad_policy,
        )
    message = str(info.value)
    for env in (
        "AGENT_AMENDS_LIMIT",
        "APPROVER_IDS",
        "APPROVER_GROUP",
        "APPROVALS_CHANNEL",
        "APPROVAL_ESCALATE_AFTER",
    ):
        assert env in message
    assert "POLICY_FILE" in message and "line 1" in message and "agent_limit" in message


def test_follow_up_settings_are_read_with_human_durations() -> None:
    settings = load_settings(
        **GOOD,
        ack_nudge_after="90s",
        follow_up_after="2h",
        resurvey_after="14d",
        working_hours="08:30-17:00 Sun-Thu",
        approver_ids="U0APPROVER, U0MANAGER1",
    )
    policy = settings.follow_up_policy()
    assert policy.ack_nudge_after.total_seconds() == 90 and policy.follow_up_after.total_seconds() == 7200
    assert policy.hours.days == frozenset({6, 0, 1, 2, 3}) and policy.approver_ids == (
        "U0APPROVER",
        "U0MANAGER1",
    )
    assert load_settings(**GOOD, working_hours="always").follow_up_policy().hours.always


def test_every_follow_up_setting_problem_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            **GOOD, ack_nudge_after="soon", resurvey_after="0d", working_hours="9-5", approver_ids="#managers"
        )
    message = str(caught.value)
    for name in ("ACK_NUDGE_AFTER", "RESURVEY_AFTER", "WORKING_HOURS", "APPROVER_IDS"):
        assert name in message
    assert "90s, 15m, 2h or 1d" in message and "'09:00-18:00 Mon-Fri'" in message


def test_log_format_is_text_unless_json_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(**GOOD).log_format == "text"
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    assert load_settings(**GOOD).log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "logfmt")
    with pytest.raises(SettingsError) as info:
        load_settings(**GOOD)
    assert "LOG_FORMAT is 'logfmt', not text or json. Set it to text" in str(info.value)


def test_the_export_settings_need_only_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://mend:hunter22hunter@db.example/mend")
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = load_database_settings()  # no SLACK_* set at all
    assert settings.database_url == "postgresql+asyncpg://mend:hunter22hunter@db.example/mend"
    assert settings.log_format == "json" and settings.log_level == "INFO"
    assert settings.secrets() == ["hunter22hunter"]
    with pytest.raises(SettingsError):  # serving still needs Slack's
        load_settings()
    served = load_settings(**GOOD)
    assert set(served.secrets()) == {"xoxb-123", "0123456789abcdef", "hunter22hunter"}


def test_the_export_settings_name_their_own_problems_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://db.example/mend")
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(SettingsError) as info:
        load_database_settings()
    message = str(info.value)
    assert "DATABASE_URL must be an sqlite:// or postgresql:// URL" in message and "LOG_LEVEL" in message
    assert "SLACK" not in message


def test_case_editors_default_to_owner_reporter_and_approvers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(**GOOD).case_editor_rule() == CaseEditors()
    monkeypatch.setenv("CASE_EDITORS", " Owner , approvers ")
    assert load_settings(**GOOD).case_editor_rule().roles == {Editor.OWNER, Editor.APPROVERS}
    assert load_settings(**GOOD, case_editors="anyone").case_editor_rule().anyone


def test_a_bad_case_editors_is_named_with_what_it_may_be() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(**GOOD, case_editors="owner,managers")
    assert (
        "CASE_EDITORS has 'managers', which is not one of owner, reporter, approvers, anyone. Set it to a "
        "comma-separated list of owner, reporter, approvers (e.g. owner,approvers), or anyone."
    ) in str(info.value)


def test_a_bad_case_editors_stops_mend_at_start_up_with_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CASE_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-123", SLACK_SIGNING_SECRET="0123456789abcdef", CASE_EDITORS="everyone")
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "CASE_EDITORS has 'everyone'" in result.stderr and "Traceback" not in result.stderr
