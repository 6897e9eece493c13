"""The install lifecycle: `app_uninstalled` and `tokens_revoked` stop Mend's sends; a working token restarts them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import StorageUnavailable
from bot.workspaces import WorkspaceService
from handlers import payloads
from handlers.interaction import Interaction
from handlers.slack_api import AMBIGUOUS, error_code

log = logging.getLogger(__name__)

CONFIRM_DEADLINE_SECONDS = 3.0
# What Slack answers with a token it no longer accepts.
DEAD_TOKEN_ERRORS = frozenset({"token_revoked", "invalid_auth", "account_inactive", "not_authed"})


class WorkspaceListeners:
    def __init__(self, workspaces: WorkspaceService) -> None:
        self._workspaces = workspaces

    async def record_uninstall(self, body: dict[str, Any]) -> None:
        team_id = Interaction.from_body(body).team_id
        if team_id is None:
            return
        if await self._workspaces.uninstalled(team_id):
            log.warning("Mend was uninstalled from %s: its sends there stop", team_id)

    async def record_revoked_tokens(self, body: dict[str, Any]) -> None:
        team_id = Interaction.from_body(body).team_id
        bot = payloads.field(body, "event", "tokens", "bot")
        bot_user_ids = [u for u in bot if payloads.user_id(u)] if isinstance(bot, list) else []
        if team_id is None:
            return
        if await self._workspaces.tokens_revoked(team_id, bot_user_ids=bot_user_ids):
            log.warning("Mend's bot token for %s was revoked: its sends there stop", team_id)


async def confirm_installation(client: AsyncWebClient, workspaces: WorkspaceService) -> None:
    """At start: if Slack accepts the configured token, its workspace is (again) active.

    A reinstall gives Mend a new token and a restart; this is how a workspace that uninstalled Mend and
    came back gets its sends again. Slack being unreachable leaves things as they were.
    """
    try:
        resp = await asyncio.wait_for(client.auth_test(), CONFIRM_DEADLINE_SECONDS)
    except SlackApiError as exc:
        code = error_code(exc)
        if code in DEAD_TOKEN_ERRORS:
            log.error("Slack refuses Mend's bot token (%s): reinstall the app and set SLACK_BOT_TOKEN", code)
        else:
            log.warning("could not confirm the bot token with Slack (%s)", code or "unknown error")
        return
    except (*AMBIGUOUS, OSError):
        log.warning("could not reach Slack to confirm the bot token; carrying on")
        return
    team_id = payloads.team_id(resp.get("team_id"))
    if team_id is None:
        return
    try:
        if await workspaces.token_confirmed(team_id):
            log.info("Slack accepts Mend's token for %s: sends there are on", team_id)
    except StorageUnavailable:
        log.warning("could not record that %s is active; its status is unchanged", team_id)
