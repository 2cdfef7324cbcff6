"""Discord requests that must be made once per attempt: never repeated by discord.py.

Two of the adapter's sends create something and take no nonce: an interaction
follow-up (``POST /webhooks/{app}/{token}``: Execute Webhook lists no ``nonce``) and a
forum post (``POST /channels/{forum}/threads``: its message params list no ``nonce``
either). discord.py retries a 500, 502, 504 or 524 and a reset connection by itself, up
to five times, and a 5xx is exactly what Discord may answer after it has made the
message: each of those retries could show the answer, or start the post, once more.

So these two requests go out here, as one plain HTTP request each. A 429 means nothing
was made: a short one is waited out and the request made again, a long one is handed to
the outbox as ``RateLimited``. Anything else fails the attempt with discord.py's own
exception types, and the outbox decides when to try again; before it does, the adapter
looks for what the lost attempt may have made (see discord_outbound.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import discord

logger = logging.getLogger(__name__)

# A 429 shorter than this is waited out here, as discord.py would; longer goes back.
WAIT_OUT_S = 10.0
RATE_LIMIT_TRIES = 3
TIMEOUT = aiohttp.ClientTimeout(total=30)


class SendOnce:
    """Makes one request to Discord's REST API without repeating it on a 5xx."""

    def __init__(self, token: str, user_agent: str) -> None:
        self._token = token
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    async def request(self, method: str, path: str, payload: dict[str, Any], *,
                      params: dict[str, str] | None = None, auth: bool = True) -> Any:
        """The JSON Discord answered for ``method path`` (``path`` below the API base,
        e.g. ``/channels/1/threads``). Raises ``discord.HTTPException`` (``NotFound``,
        ``Forbidden``, ``DiscordServerError``), ``discord.RateLimited``, or the network
        error as it came."""
        headers = {"User-Agent": self._user_agent, "Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bot {self._token}"
        url = discord.http.Route.BASE + path
        body = json.dumps(payload, separators=(",", ":"))
        for tries in range(RATE_LIMIT_TRIES):
            async with self._open().request(method, url, data=body, headers=headers,
                                            params=params) as response:
                data = await _json(response)
                if 200 <= response.status < 300:
                    return data
                if response.status == 429 and response.headers.get("Via"):
                    wait = _retry_after(data)
                    if wait > WAIT_OUT_S or tries == RATE_LIMIT_TRIES - 1:
                        raise discord.RateLimited(wait)
                else:
                    raise _error(response, data)
            logger.debug("%s %s rate limited; trying again in %.2fs", method, path, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: every try returns or raises")

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        """Release the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _json(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _retry_after(data: Any) -> float:
    """Seconds Discord asks us to wait (its body is more precise than Retry-After)."""
    try:
        return max(float(data["retry_after"]), 0.0)
    except (TypeError, KeyError, ValueError):
        return 1.0


def _error(response: aiohttp.ClientResponse, data: Any) -> discord.HTTPException:
    """discord.py's exception for a failed response, so errors read the same whichever
    way a request went (a 429 without ``Via`` is Cloudflare's: a plain HTTPException)."""
    if response.status == 403:
        return discord.Forbidden(response, data)
    if response.status == 404:
        return discord.NotFound(response, data)
    if response.status >= 500:
        return discord.DiscordServerError(response, data)
    return discord.HTTPException(response, data)
