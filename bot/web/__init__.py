"""The process's one web server (aiohttp): ``/healthz``, ``/readyz``, ``/metrics``, and
whatever routes a platform adds through the ``WebRoutes`` port (Slack's
``/slack/events``). It serves; it decides nothing about tickets or promises."""

from bot.web.server import WebServer
from bot.web.service import Readiness, TickerState, mount_service_routes

__all__ = ["Readiness", "TickerState", "WebServer", "mount_service_routes"]
