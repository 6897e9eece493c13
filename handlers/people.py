"""Who a Slack user id is, from users.info: whether they can own, be assigned or approve, and their time zone.

One directory for every place Mend needs a person: the follow-up queue (time zones), amends (approvers and
their user group), and every picker in every modal (`check`, through `ListenerKit.person`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import payloads

log = logging.getLogger(__name__)

# users.info's answers for an id Slack has no person for (or none this app may see).
UNKNOWN_USER_ERRORS = frozenset({"user_not_found", "user_not_visible", "invalid_arguments"})
# Slackbot is a user Slack does not mark as a bot.
SLACKBOT = "USLACKBOT"

# What a picker says about the person picked (plain text: modal field errors render no mrkdwn).
NOT_A_PERSON = "That isn't a person in this workspace. Pick someone from the list."
AN_APP = "That's an app, not a person. Pick a person from the list."
DEACTIVATED = "That person's account is deactivated. Pick someone else."
ANOTHER_WORKSPACE = "That person is in another workspace. Pick someone from this one."
SLACK_SILENT = "Slack couldn't confirm who you picked just now. Please try again in a moment."
NO_WORKSPACE = (
    "Slack didn't say which workspace this form is from, so nobody can be picked. Please reopen it."
)


def _error(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def _teams_of(user: dict[str, Any]) -> set[str]:
    """The workspaces a person belongs to: their own, and on Enterprise Grid each one of the org's they are in."""
    teams = {user.get("team_id")}
    for listed in (user.get("teams"), payloads.field(user, "enterprise_user", "teams")):
        if isinstance(listed, list):
            teams.update(listed)
    return {t for t in teams if isinstance(t, str) and t}


def _not_someone(user: Any) -> str | None:
    """Why the `user` users.info answered is no one who can act in Mend (an app, a deactivated account)."""
    if not isinstance(user, dict) or payloads.user_id(user.get("id")) is None:
        return NOT_A_PERSON
    if user.get("deleted"):
        return DEACTIVATED
    if user.get("is_bot") or user.get("is_workflow_bot") or user.get("id") == SLACKBOT:
        return AN_APP
    return None


def refusal(user: Any, team_id: str | None) -> str | None:
    """Why the person users.info describes can't be picked in `team_id`'s workspace, or None if they can."""
    if team_id is None:
        return NO_WORKSPACE
    problem = _not_someone(user)
    if problem is None and team_id not in _teams_of(user):
        return ANOTHER_WORKSPACE
    return problem


class SlackPeople:
    """People from users.info (and user groups from usergroups.users.list).

    A person's record is kept for a minute, so a form checked at the edge and again by the domain asks Slack
    once; time zones for six hours, as nudges only need them roughly current.
    """

    def __init__(
        self, client: AsyncWebClient, *, ttl_seconds: float = 60.0, tz_ttl_seconds: float = 6 * 3600
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._tz_ttl = tz_ttl_seconds
        self._users: dict[str, tuple[dict[str, Any], float]] = {}
        self._timezones: dict[str, tuple[str | None, float]] = {}

    async def user(self, user_id: str) -> dict[str, Any] | None:
        """users.info's `user`, or None when Slack has no such person; a Slack failure is raised."""
        cached = self._users.get(user_id)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            resp = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if _error(exc) in UNKNOWN_USER_ERRORS:
                return None
            raise
        user = resp.get("user")
        if not isinstance(user, dict):
            return None
        self._users[user_id] = (user, now + self._ttl)
        return user

    async def check(self, user_id: str, team_id: str | None) -> str | None:
        """Why `user_id` can't be picked as an owner, assignee or approver in `team_id`, or None if they can.

        Refused: an id Slack doesn't know (or won't show), an app or bot, a deactivated account, a person of
        another workspace. When Slack doesn't answer, the person is asked to try again; nothing is assumed.
        """
        if payloads.user_id(user_id) is None:
            return NOT_A_PERSON
        try:
            user = await self.user(user_id)
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            code = _error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("users.info failed for a picked person (%s); the form asks to try again", code)
            return SLACK_SILENT
        return NOT_A_PERSON if user is None else refusal(user, team_id)

    # ---- the domain's ports -----------------------------------------------------------------------

    async def is_user(self, user_id: str) -> bool:
        """ApproverDirectory: a person (not an app, not deactivated) Slack knows."""
        if payloads.user_id(user_id) is None:
            return False
        user = await self.user(user_id)
        return user is not None and _not_someone(user) is None

    async def group_members(self, group_id: str) -> list[str]:
        """ApproverDirectory: the members of a user group (people only; anything else Slack lists is dropped)."""
        try:
            resp = await self._client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            log.warning("APPROVER_GROUP %s: usergroups.users.list failed (%s)", group_id, _error(exc))
            return []
        users = resp.get("users")
        return [u for u in users if payloads.user_id(u)] if isinstance(users, list) else []

    async def timezone(self, user_id: str) -> str | None:
        """PeopleDirectory: the person's time zone; None (UTC) until Slack says, retried a minute later."""
        cached = self._timezones.get(user_id)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            resp = await self._client.users_info(user=user_id)
            user = resp.get("user") or {}
            tz = user.get("tz") if isinstance(user, dict) else None
            tz = str(tz) if tz else None
            self._timezones[user_id] = (tz, now + self._tz_ttl)
        except (TimeoutError, SlackApiError, aiohttp.ClientError):
            log.warning("users.info failed for %s; using UTC for now", user_id)
            tz = cached[0] if cached else None
            self._timezones[user_id] = (tz, now + 60)  # try again in a minute, not on every nudge
        return tz
