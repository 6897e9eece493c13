"""People's time zones, from users.info: every nudge and date picker needs the recipient's."""

from __future__ import annotations

import logging
import time

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SlackPeopleDirectory:
    """Time zones from users.info, cached."""

    def __init__(self, client: AsyncWebClient, ttl_seconds: float = 6 * 3600) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[str | None, float]] = {}

    async def timezone(self, user_id: str) -> str | None:
        cached = self._cache.get(user_id)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            resp = await self._client.users_info(user=user_id)
            user = resp.get("user") or {}
            tz = user.get("tz") if isinstance(user, dict) else None
            tz = str(tz) if tz else None
            self._cache[user_id] = (tz, now + self._ttl)
        except (TimeoutError, SlackApiError, aiohttp.ClientError):
            log.warning("users.info failed for %s; using UTC for now", user_id)
            tz = cached[0] if cached else None
            self._cache[user_id] = (tz, now + 60)  # try again in a minute, not on every nudge
        return tz
