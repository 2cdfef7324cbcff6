"""Slack's rate limits, as the outbox needs them: never sleep, say when to come back.

Per-channel posting pace (about one message a second) is the dispatcher's pacer's job
(``SlackAdapter.pacing``). Here are the per-method tiers: a token bucket per Web API
method, sized by its tier, and a method-wide block after a 429 until its
``Retry-After`` has passed. A send that would exceed either raises
``DeliveryError(retry_after=...)``, so the row is re-scheduled, not slept on.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core import DeliveryError

# Requests per minute by tier (Slack's documented minimums), used as bucket size and
# refill rate. chat.postMessage is "special" (per channel), paced elsewhere.
TIER_2, TIER_3, TIER_4 = 20, 50, 100
METHOD_TIERS = {
    "chat.update": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.getPermalink": TIER_4,
    "conversations.open": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.history": TIER_3,
    "views.publish": TIER_4,
    # A transcript: both are Tier 4 in Slack's method reference.
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "views.open": TIER_4,
    "users.info": TIER_4,
}
# Errors that another attempt cannot fix: the channel is gone or closed to the bot,
# the token or its scopes are wrong, or Slack refused the content itself.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "channel_is_archived",
    "missing_scope", "invalid_auth", "not_authed", "account_inactive", "token_revoked",
    "token_expired", "no_permission", "restricted_action", "user_not_found",
    "user_not_in_channel", "cannot_dm_bot", "invalid_blocks", "invalid_blocks_format",
    "msg_too_long", "no_text", "invalid_metadata_format", "invalid_metadata_schema",
    "message_not_found", "cant_update_message", "edit_window_closed", "ekm_access_denied",
    "team_access_not_granted", "invalid_arguments", "not_allowed_token_type",
})


class SlackCallError(DeliveryError):
    """A failed Web API call; ``code`` is Slack's error code ("" for transport errors)."""

    def __init__(self, message: str, *, code: str = "", retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(message, retry_after=retry_after, permanent=permanent)
        self.code = code


class MethodLimiter:
    """Token buckets per Web API method, plus blocks from 429 answers."""

    def __init__(self, tiers: dict[str, int] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.tiers = dict(METHOD_TIERS if tiers is None else tiers)
        self.clock = clock
        self._tokens: dict[str, tuple[float, float]] = {}  # method -> (tokens, at)
        self._blocked: dict[tuple[str, str], float] = {}  # (method, scope) -> when it opens

    def reserve(self, method: str, scope: str = "") -> float:
        """Take one request of ``method`` now and return 0, or return the seconds until
        one is free (nothing is taken then). ``scope`` narrows a 429 block (a channel,
        for posts: Slack limits those per channel)."""
        now = self.clock()
        opens = max(self._blocked.get((method, ""), 0.0), self._blocked.get((method, scope), 0.0))
        if opens > now:
            return opens - now
        per_minute = self.tiers.get(method)
        if not per_minute:
            return 0.0
        tokens, at = self._tokens.get(method, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - at) * per_minute / 60.0)
        if tokens < 1.0:
            self._tokens[method] = (tokens, now)
            return (1.0 - tokens) * 60.0 / per_minute
        self._tokens[method] = (tokens - 1.0, now)
        return 0.0

    def block(self, method: str, seconds: float, scope: str = "") -> None:
        """Slack said 429 for ``method`` (in ``scope``): hold those requests for ``seconds``."""
        key = (method, scope)
        self._blocked[key] = max(self._blocked.get(key, 0.0), self.clock() + seconds)
        if len(self._blocked) > 10_000:
            now = self.clock()
            self._blocked = {k: v for k, v in self._blocked.items() if v > now}

    def check(self, method: str, scope: str = "") -> None:
        """:meth:`reserve`, raising ``DeliveryError(retry_after=...)`` when it must wait."""
        wait = self.reserve(method, scope)
        if wait > 0:
            raise SlackCallError(f"{method} is at its rate limit", code="ratelimited",
                                 retry_after=round(wait, 3))


def retry_after(error: SlackApiError) -> float | None:
    """Seconds from a 429's ``Retry-After`` (1 s when it is missing or odd), or None
    when ``error`` is not a rate limit."""
    response = error.response
    status = getattr(response, "status_code", None)
    code = response.get("error") if response is not None else None
    if status != 429 and code != "ratelimited":
        return None
    try:
        return max(float((response.headers or {}).get("Retry-After", "1")), 0.0)
    except (TypeError, ValueError):
        return 1.0


def delivery_error(method: str, error: Exception, limiter: MethodLimiter | None = None,
                   scope: str = "") -> SlackCallError:
    """A Web API failure as the outbox understands it: a 429 carries ``retry_after``
    (and blocks the method in ``limiter``); errors no retry can fix are permanent."""
    if isinstance(error, SlackCallError):
        return error
    if isinstance(error, SlackApiError):
        wait = retry_after(error)
        code = str(error.response.get("error", "")) if error.response is not None else ""
        if wait is not None:
            if limiter is not None:
                limiter.block(method, wait, scope)
            return SlackCallError(f"{method}: rate limited for {wait:g} s", code="ratelimited",
                                  retry_after=wait)
        status = getattr(error.response, "status_code", 200)
        return SlackCallError(f"{method}: {code or f'HTTP {status}'}", code=code,
                              permanent=code in PERMANENT_ERRORS)
    if isinstance(error, (OSError, asyncio.TimeoutError, aiohttp.ClientError)):
        return SlackCallError(f"{method}: {type(error).__name__}")
    return SlackCallError(f"{method}: {type(error).__name__}: {error}")
