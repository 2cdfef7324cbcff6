"""HTTP mode: one endpoint, ``POST /slack/events``, for events, slash commands and
interactivity alike, mounted on the desk's one web server (``bot.core.WebRoutes``).

The body is read as bytes and handed to Bolt unchanged (decoded as the UTF-8 Slack
sends), so the signature is checked over exactly what was signed: a bad or stale
signature gets 401 from Bolt's request verification before anything else runs.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core import WebRoutes

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackHttpEndpoint:
    """Serves a Bolt app at ``path`` on ``routes`` (added at once: the server must not
    have started yet)."""

    def __init__(self, app: AsyncApp, routes: WebRoutes, path: str = EVENTS_PATH) -> None:
        self.app = app
        self.routes = routes
        self.path = path
        routes.add_route("POST", path, self.handle)

    @property
    def url(self) -> str:
        """Where Slack should send requests (the Request URL in the app's settings)."""
        return self.routes.url_for(self.path)

    async def handle(self, request: web.Request) -> web.Response:
        """One request from Slack, through Bolt's middleware and listeners."""
        raw = await request.read()
        bolt_request = AsyncBoltRequest(body=raw.decode("utf-8", errors="replace"),
                                        query=request.query_string,
                                        headers=request.headers)  # type: ignore[arg-type]
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)
