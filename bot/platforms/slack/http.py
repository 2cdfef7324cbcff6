"""HTTP mode: one endpoint, ``POST /slack/events``, for events, slash commands and
interactivity alike, mounted on the desk's one web server (``bot.core.WebRoutes``).

The body is read as bytes and handed to Bolt unchanged (decoded as the UTF-8 Slack
sends), so the signature is checked over exactly what was signed: a bad or stale
signature gets 401 from Bolt's request verification before anything else runs.
"""

from __future__ import annotations

import logging
from typing import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core import WebRoutes

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackHttpEndpoint:
    """Serves a Bolt app at ``path`` on ``routes`` (added at once: the server must not
    have started yet). Until ``accepting()`` says so, requests are answered 503: the
    web server starts before the adapter, and Slack retries what it was refused,
    whereas a request taken before the desk is connected would be acknowledged and lost."""

    def __init__(self, app: AsyncApp, routes: WebRoutes, accepting: Callable[[], bool],
                 path: str = EVENTS_PATH) -> None:
        self.app = app
        self.routes = routes
        self.accepting = accepting
        self.path = path
        routes.add_route("POST", path, self.handle)

    @property
    def url(self) -> str:
        """Where Slack should send requests (the Request URL in the app's settings)."""
        return self.routes.url_for(self.path)

    async def handle(self, request: web.Request) -> web.Response:
        """One request from Slack, through Bolt's middleware and listeners."""
        if not self.accepting():
            return web.Response(status=503, text="starting")
        raw = await request.read()
        bolt_request = AsyncBoltRequest(body=raw.decode("utf-8", errors="replace"),
                                        query=request.query_string,
                                        headers=request.headers)  # type: ignore[arg-type]
        bolt_response = await self.app.async_dispatch(bolt_request)
        if bolt_response.status == 401:
            # Bolt's own note of this carries the whole body (people's words) at INFO;
            # its logger is kept at WARNING (bot/platforms/slack/adapter.py). This says
            # what to check, and nothing of what was sent.
            logger.warning("refused a request to %s: its Slack signature did not verify "
                           "(check SLACK_SIGNING_SECRET, and that this machine's clock is "
                           "within 5 minutes of the real time)", self.path)
        return await to_aiohttp_response(bolt_response)
