"""`/recover export`: CSV files of cases and amends, sent to the approver who asked, in Mend's DM."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.errors import MendError
from bot.export import ExportService
from handlers.interaction import Interaction, ListenerKit
from handlers.people import SlackPeople
from handlers.slack_api import SlackPoster, error_code
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)


def display_name(user: Mapping[str, Any]) -> str:
    """The name Slack shows for a person: their full name, else their display name, else their handle."""
    profile = user.get("profile") or {}
    for name in (
        profile.get("real_name"),
        user.get("real_name"),
        profile.get("display_name"),
        user.get("name"),
    ):
        if isinstance(name, str) and name.strip():
            return name.strip()
    return ""


class SlackUserNames:
    """People's names for one export, from the one people directory (users.info, kept a minute): each person
    is asked for once, however many rows name them. A person Slack can't tell us about keeps an empty name
    (their id is in the file anyway)."""

    def __init__(self, people: SlackPeople) -> None:
        self._people = people
        self._cache: dict[str, str] = {}

    async def names(self, user_ids: Collection[str]) -> Mapping[str, str]:
        for user_id in user_ids:
            if user_id in self._cache:
                continue
            try:
                user = await self._people.user(user_id)
                self._cache[user_id] = display_name(user) if user is not None else ""
            except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
                code = error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
                log.warning(
                    "users.info failed for %s during an export (%s); exporting the id only", user_id, code
                )
                self._cache[user_id] = ""
        return {user_id: self._cache[user_id] for user_id in user_ids if self._cache.get(user_id)}


class ExportListeners:
    def __init__(self, service: ExportService, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self._service = service
        self._kit = ListenerKit(poster, tasks)

    async def export(self, ack: AsyncAck, command: dict[str, Any], text: str) -> None:
        """Called by the /recover listener for `/recover export [from] [to]`."""
        asked = Interaction.from_body(command)
        user_id, team_id = asked.user_id, asked.team_id
        if user_id is None or team_id is None:
            await ack(text="Slack didn't say who asked for this export. Please try again.")
            return
        try:
            self._service.parse(text)  # a mistyped date is answered at once, before any work
        except MendError as exc:
            await ack(text=exc.user_message)
            return

        async def send(asked: Interaction) -> None:
            await self._send(user_id, team_id, asked.channel_id, text)

        await self._kit.ack_then_work(ack, command, send, name="export")

    async def _send(self, user_id: str, team_id: str, channel_id: str | None, text: str) -> None:
        client = self._kit.poster.client
        export_range, files = await self._service.export_for(user_id, team_id, text, SlackUserNames(self._kit.poster.people))
        dm = await client.conversations_open(users=user_id)
        counts = ", ".join(f"{f.rows} rows in {f.filename}" for f in files)
        # files_upload_v2: files.getUploadURLExternal, the upload, then files.completeUploadExternal.
        await client.files_upload_v2(
            channel=str(dm["channel"]["id"]),
            initial_comment=f"Your Mend export, {export_range.first_day} to {export_range.last_day}: {counts}.",
            file_uploads=[{"content": f.content, "filename": f.filename, "title": f.title} for f in files],
        )
        if channel_id:
            notice = ":inbox_tray: Your export is in your DM with Mend."
            await self._kit.poster.tell_user(
                user_id=user_id,
                channel_id=channel_id,
                text=notice,
                blocks=[SectionBlock(text=MarkdownTextObject(text=notice))],
            )
