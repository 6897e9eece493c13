"""The one error policy: domain errors are shown to the person who acted, everything else is logged."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.errors import MendError
from handlers.blocks.text import mention
from handlers.interaction import Interaction
from handlers.slack_api import RedrawFailed, SlackPoster

log = logging.getLogger("mend.errors")


class ErrorPolicy:
    def __init__(self, poster: SlackPoster) -> None:
        self._poster = poster

    async def handle(self, exc: BaseException, *, user_id: str | None, channel_id: str | None) -> None:
        if isinstance(exc, RedrawFailed):
            # The person's change is saved; a stale message is caught up later, not an error of theirs.
            log.warning("left for the next redraw: %s", exc.user_message)
            return
        if isinstance(exc, MendError):
            log.info("told %s: %s", user_id, exc.user_message)
            message = exc.render(mention)  # each person it names as a checked mention
        else:
            ref = uuid.uuid4().hex[:8]
            log.error("unexpected error (ref %s)", ref, exc_info=exc)
            message = (
                f":warning: Something went wrong on Mend's side (ref `{ref}`). What you entered is kept where "
                "it was saved; please try again, and tell your Mend admin if it keeps happening."
            )
        if not user_id:
            return
        try:
            await self._poster.tell_user(
                user_id=user_id,
                channel_id=channel_id,
                text=message,
                blocks=[SectionBlock(text=MarkdownTextObject(text=message[:3000]))],
            )
        except Exception:
            # Slack itself may be what failed; the log above is then all we can do.
            log.warning("could not tell %s about an error", user_id, exc_info=True)

    async def handle_listener_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        """Bolt's `app.error` handler, for anything a listener raised before handing work to a task."""
        if isinstance(error, BoltUnhandledRequestError):
            # Slack sends things Mend has no listener for: clicks on link buttons, events subscribed to
            # ahead of their feature. Anything but a 200 makes Slack show the person an error, or retry
            # the event and eventually switch the subscription off.
            log.debug(
                "nothing handles this %s; acked", body.get("type") if isinstance(body, dict) else "request"
            )
            return BoltResponse(status=200, body="")
        acted = Interaction.from_body(body)
        await self.handle(error, user_id=acted.user_id, channel_id=acted.channel_id)
        return None
