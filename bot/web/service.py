"""The service's own endpoints: ``/healthz`` (alive), ``/readyz`` (ready to work) and
``/metrics`` (Prometheus).

``/readyz`` answers 200 only when the database answers, every configured adapter is
connected and the ticker ticked within three tick intervals; otherwise 503 with a JSON
body naming each thing wrong. It never shows a secret: database errors are the driver's
first line, masked, and no URL is quoted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Callable, Mapping, Protocol

from aiohttp import web

from bot.domain.promises import PromiseKind
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.storage.health import DatabaseProbe, shared_numbers
from bot.storage.uow import Database
from bot.web.server import WebServer

logger = logging.getLogger(__name__)

# A ticker that has not finished a tick for this many intervals is stalled.
STALLED_AFTER_TICKS = 3
# How long an adapter may take to say whether it is connected, and /metrics the database.
ADAPTER_TIMEOUT = 2.0
SCRAPE_DB_TIMEOUT = 5.0


class TickerState(Protocol):
    """What readiness reads of the ticker (bot/ticker.py), on the monotonic clock."""

    tick_seconds: float

    @property
    def started_at(self) -> float | None:
        """When it started ticking (None: not running)."""

    @property
    def last_tick_at(self) -> float | None:
        """When its last tick finished without error (None: none yet)."""


class Readiness:
    """Asks everything ``/readyz`` depends on. ``ticker`` None means the desk runs no
    ticker by design (a piped console ticks line by line), so it is not asked about.
    ``monotonic`` measures how long ago the ticker ticked (tests pass their own)."""

    def __init__(self, database: DatabaseProbe, adapters: Mapping[str, object],
                 ticker: TickerState | None, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 adapter_timeout: float = ADAPTER_TIMEOUT) -> None:
        self.database = database
        self.adapters = adapters
        self.ticker = ticker
        self.monotonic = monotonic
        self.adapter_timeout = adapter_timeout

    async def problems(self) -> tuple[dict[str, str], list[str]]:
        """(what is wrong, by name; the names of what is fine). Names: ``database``,
        each adapter's platform, ``ticker``."""
        names = ["database", *self.adapters]
        answers = await asyncio.gather(self.database.problem(),
                                       *(self._adapter(a) for a in self.adapters.values()))
        found = dict(zip(names, answers))
        if self.ticker is not None:
            names.append("ticker")
            found["ticker"] = self._ticker(self.ticker)
        problems = {name: problem for name, problem in found.items() if problem}
        return problems, [name for name in names if name not in problems]

    async def _adapter(self, adapter: object) -> str | None:
        ask = getattr(adapter, "is_connected", None)
        if ask is None:
            return None  # nothing it could lose (see bot.core.ports.ChatAdapter)
        try:
            connected = await asyncio.wait_for(ask(), self.adapter_timeout)
        except asyncio.TimeoutError:
            return f"did not say whether it is connected within {self.adapter_timeout:g} s"
        except Exception:
            logger.exception("asking the %s adapter whether it is connected failed",
                             getattr(adapter, "platform", "?"))
            return "could not say whether it is connected"
        return None if connected else "not connected"

    def _ticker(self, ticker: TickerState) -> str | None:
        started, last = ticker.started_at, ticker.last_tick_at
        if started is None:
            return "the ticker is not running"
        limit = STALLED_AFTER_TICKS * ticker.tick_seconds
        since = self.monotonic() - (last if last is not None else started)
        if since <= limit:
            return None
        if last is None:
            return (f"no tick has finished since the ticker started {since:.0f} s ago "
                    f"(it ticks every {ticker.tick_seconds:g} s)")
        return (f"the last tick finished {since:.0f} s ago (it ticks every "
                f"{ticker.tick_seconds:g} s)")


def mount_service_routes(server: WebServer, readiness: Readiness, metrics: Metrics,
                         db: Database) -> None:
    """Add ``/healthz``, ``/readyz`` and ``/metrics`` to ``server``."""

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(request: web.Request) -> web.Response:
        problems, fine = await readiness.problems()
        body = {"ready": not problems, "problems": problems, "ok": fine}
        return web.Response(status=503 if problems else 200, text=json.dumps(body),
                            content_type="application/json")

    async def metrics_page(request: web.Request) -> web.Response:
        try:
            lost = readiness.database.file_problem()
            if lost is not None:
                # The old file still answers, but its numbers are of a database that is
                # gone: leave them out, so the "database unanswered" alert fires.
                raise FileNotFoundError(lost)
            shared = await asyncio.wait_for(shared_numbers(db), SCRAPE_DB_TIMEOUT)
        except Exception as error:  # the counters are still worth having
            logger.warning("metrics: the database did not answer (%s); the outbox and "
                           "promise gauges are left out of this scrape", type(error).__name__)
            shared = None
        body = metrics.render(shared, [kind.value for kind in PromiseKind])
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    server.add_route("GET", "/healthz", healthz)
    server.add_route("GET", "/readyz", readyz)
    server.add_route("GET", "/metrics", metrics_page)
