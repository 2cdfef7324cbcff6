"""HTTP mode: one aiohttp endpoint, ``POST /slack/events``, for events, slash commands
and interactivity alike.

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

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackHttpServer:
    """Serves a Bolt app on ``host``:``port`` (port 0 picks a free one; see :attr:`port`)."""

    def __init__(self, app: AsyncApp, host: str, port: int, path: str = EVENTS_PATH) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.path = path
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where Slack should send requests (the Request URL in the app's settings)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}{self.path}"

    async def start(self) -> None:
        """Listen; returns once the socket is bound."""
        web_app = web.Application(client_max_size=2 * 1024 * 1024)
        web_app.router.add_post(self.path, self.handle)
        web_app.router.add_get("/healthz", self.health)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # the port the OS chose
        if sockets:
            self.port = sockets[0].getsockname()[1]
        logger.info("Slack HTTP mode listening on %s", self.url)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        """One request from Slack, through Bolt's middleware and listeners."""
        raw = await request.read()
        bolt_request = AsyncBoltRequest(body=raw.decode("utf-8", errors="replace"),
                                        query=request.query_string,
                                        headers=request.headers)  # type: ignore[arg-type]
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def health(self, request: web.Request) -> web.Response:
        """A load balancer's liveness probe."""
        return web.Response(text="ok")
