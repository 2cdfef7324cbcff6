"""One aiohttp server per process: routes are added before it starts, then it listens."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core import WebHandler

logger = logging.getLogger(__name__)

# Slack's interactivity payloads (a modal's whole state) can run to a few hundred KB.
MAX_BODY = 2 * 1024 * 1024
# When stopping, requests in flight get this long to finish (aiohttp waits 60 s by
# default, longer than a container's stop grace; Slack wants its answer within 3 s).
SHUTDOWN_GRACE = 10.0


class WebServer:
    """Serves its routes on ``host``:``port`` (port 0 picks a free one; see :attr:`port`).
    ``public_url`` is where people and platforms reach it (HELPDESK_PUBLIC_URL); without
    it, links are made from the address it listens on."""

    def __init__(self, host: str, port: int, public_url: str = "") -> None:
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/")
        self.app = web.Application(client_max_size=MAX_BODY)
        self._runner: web.AppRunner | None = None

    def add_route(self, method: str, path: str, handler: WebHandler) -> None:
        """Serve ``method`` requests for ``path`` with ``handler`` (before :meth:`start`)."""
        self.app.router.add_route(method, path, handler)

    @property
    def local_url(self) -> str:
        """The address it listens on, as a URL (a wildcard host read as 127.0.0.1)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, path: str) -> str:
        """The full URL of ``path`` as others reach it."""
        return (self.public_url or self.local_url) + path

    async def start(self) -> None:
        """Listen; returns once the socket is bound."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        sockets = getattr(site._server, "sockets", None) or []  # the port the OS chose
        if sockets:
            self.port = sockets[0].getsockname()[1]
        logger.info("web server listening on %s (health: %s)", self.local_url,
                    self.url_for("/readyz"))

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
