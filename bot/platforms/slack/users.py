"""Who someone is, from ``users.info``: name, email, time zone, admin and bot flags.

Answers are cached per (team, user) for a while, and concurrent look-ups of the same
person share one request. A failed look-up never loses the event: the person is then
known by their id alone, and the next event asks again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import Actor

logger = logging.getLogger(__name__)

DEFAULT_TTL = 15 * 60.0
MAX_ENTRIES = 20_000
FAILED_TTL = 60.0


def actor_from_user(user: dict) -> Actor:
    """An Actor from a ``users.info`` user object. Workspace admins and owners count as
    admins of the desk; bot users and Slackbot are bots."""
    profile = user.get("profile") or {}
    name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
            or user.get("name") or user.get("id", ""))
    return Actor(
        user_id=user["id"], display_name=name, email=profile.get("email") or None,
        tz=user.get("tz") or None,
        is_platform_admin=bool(user.get("is_admin") or user.get("is_owner")
                               or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
    )


class PeopleDirectory:
    """Looks people up with ``users.info`` and remembers them for ``ttl`` seconds."""

    def __init__(self, client: AsyncWebClient, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Actor]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future] = {}

    async def actor(self, team_id: str, user_id: str) -> Actor:
        """The person ``user_id`` of ``team_id``; never raises."""
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        actor = Actor(user_id)
        try:
            actor, ok = await self._lookup(user_id, cached[1] if cached else None)
            # A failed look-up is retried a little later, not on every event (it may
            # have been a rate limit, which more requests would only prolong).
            self._remember(key, actor, self.ttl if ok else FAILED_TTL)
            return actor
        finally:
            del self._pending[key]
            future.set_result(actor)

    async def _lookup(self, user_id: str, stale: Actor | None) -> tuple[Actor, bool]:
        try:
            response = await self.client.users_info(user=user_id)
            return actor_from_user(response["user"]), True
        except SlackApiError as error:
            reason = error.response.get("error") if error.response is not None else error
        except (OSError, asyncio.TimeoutError, KeyError) as error:
            reason = type(error).__name__
        logger.warning("users.info for %s failed (%s); using %s", user_id, reason,
                       "the profile seen before" if stale else "the id alone")
        return stale or Actor(user_id), False

    def _remember(self, key: tuple[str, str], actor: Actor, ttl: float) -> None:
        if len(self._cache) >= MAX_ENTRIES:
            now = self.clock()
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= MAX_ENTRIES:
                self._cache.clear()
        self._cache[key] = (self.clock() + ttl, actor)
