"""A local fake chat platform over real HTTP, for delivery tests that cross a process.

It is deliberately small: one endpoint, ``POST /messages``, taking JSON
``{channel, thread, text, key, direct_to}`` and answering ``{id, channel, thread,
deduplicated}``. What it does model is what the outbox must survive:

* **Idempotency.** A request whose ``key`` was seen before is answered with the first
  message's id and records nothing new, the way Discord treats a repeated ``nonce``
  with ``enforce_nonce``. Such answers are counted in :attr:`FakeChat.dedup_hits`.
* **Rate limits.** It can be told to answer the next N requests, or every request for
  one destination, with HTTP 429 and a ``Retry-After`` header in (possibly fractional)
  seconds. Those answers are counted in :attr:`FakeChat.rate_limited`.
* **Pacing evidence.** Every accepted message carries its arrival time
  (``time.monotonic()``), so tests can measure the gap between messages per destination.

A message's *destination* is ``"@" + direct_to`` for a direct message, else its channel.

The server runs in the test's own event loop (``aiohttp.web`` on 127.0.0.1, port 0);
worker processes started with ``asyncio.create_subprocess_exec`` talk to it while the
loop keeps serving.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass
from typing import Self

from aiohttp import web


@dataclass(frozen=True)
class AcceptedMessage:
    """One message the fake platform stored."""

    id: str
    channel: str
    thread: str | None
    text: str
    key: str | None
    direct_to: str | None
    arrived_at: float  # time.monotonic() when it was accepted
    attempt: int = 1  # the sender's attempt number for this key, as it said

    @property
    def destination(self) -> str:
        """Where it went: ``@user`` for a direct message, else the channel id."""
        return f"@{self.direct_to}" if self.direct_to else self.channel


def destination_of(channel: str, direct_to: str | None) -> str:
    """The destination key used for throttling and arrival times (see the module doc)."""
    return f"@{direct_to}" if direct_to else channel


class FakeChat:
    """The fake platform: start it, point an adapter at :attr:`url`, inspect what arrived."""

    def __init__(self) -> None:
        self.accepted: list[AcceptedMessage] = []
        self.dedup_hits = 0
        self.rate_limited = 0
        self.requests = 0
        self._by_key: dict[str, AcceptedMessage] = {}
        self._ids = itertools.count(1)
        self._throttle_next = 0
        self._throttle_next_after = 1.0
        self._throttled: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> FakeChat:
        """Listen on 127.0.0.1 on a free port; :attr:`url` is set afterwards."""
        app = web.Application()
        app.router.add_post("/messages", self._post_message)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # the port the OS chose
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # -- behaviour switches ------------------------------------------------

    def throttle_next(self, count: int, retry_after: float) -> None:
        """Answer the next ``count`` requests (whatever their destination) with 429."""
        self._throttle_next = count
        self._throttle_next_after = retry_after

    def throttle(self, destination: str, retry_after: float) -> None:
        """Answer every request for ``destination`` with 429 until :meth:`release`."""
        self._throttled[destination] = retry_after

    def release(self, destination: str) -> None:
        """Stop throttling ``destination``."""
        self._throttled.pop(destination, None)

    # -- what tests read ---------------------------------------------------

    def arrivals(self, destination: str) -> list[float]:
        """Arrival times (monotonic seconds) of the messages accepted for ``destination``."""
        return [m.arrived_at for m in self.accepted if m.destination == destination]

    def destinations(self) -> set[str]:
        """Every destination that received at least one message."""
        return {m.destination for m in self.accepted}

    def key_counts(self) -> Counter:
        """How many accepted messages carry each idempotency key (should all be 1)."""
        return Counter(m.key for m in self.accepted if m.key is not None)

    def in_thread(self, channel: str, thread: str | None) -> list[AcceptedMessage]:
        """Accepted messages posted in one thread of one channel."""
        return [m for m in self.accepted if m.channel == channel and m.thread == thread]

    def in_threads(self, channel: str) -> list[AcceptedMessage]:
        """Accepted messages posted in any thread of ``channel``."""
        return [m for m in self.accepted if m.channel == channel and m.thread]

    # -- the endpoint ------------------------------------------------------

    async def _post_message(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            body = await request.json()
            channel = str(body.get("channel") or "")
            text = str(body["text"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        direct_to = body.get("direct_to") or None
        if not channel and not direct_to:
            return web.json_response({"ok": False, "error": "no_destination"}, status=400)
        destination = destination_of(channel, direct_to)
        retry_after = self._throttled.get(destination)
        if retry_after is None and self._throttle_next > 0:
            self._throttle_next -= 1
            retry_after = self._throttle_next_after
        if retry_after is not None:
            # Rate limiting sits in front of everything else, as on real platforms.
            self.rate_limited += 1
            return web.json_response({"ok": False, "error": "rate_limited",
                                      "retry_after": retry_after}, status=429,
                                     headers={"Retry-After": f"{retry_after:g}"})
        key = body.get("key") or None
        if key is not None and key in self._by_key:
            self.dedup_hits += 1
            return web.json_response(self._answer(self._by_key[key], deduplicated=True))
        message = AcceptedMessage(id=f"m{next(self._ids)}", channel=channel,
                                  thread=body.get("thread") or None, text=text, key=key,
                                  direct_to=direct_to, arrived_at=time.monotonic(),
                                  attempt=_attempt(body.get("attempt")))
        self.accepted.append(message)
        if key is not None:
            self._by_key[key] = message
        return web.json_response(self._answer(message, deduplicated=False))

    @staticmethod
    def _answer(message: AcceptedMessage, *, deduplicated: bool) -> dict:
        return {"ok": True, "id": message.id, "channel": message.channel,
                "thread": message.thread, "deduplicated": deduplicated}


def _attempt(value) -> int:
    """The sender's attempt number; 1 when absent or not a number."""
    try:
        return int(value or 1)
    except (TypeError, ValueError):
        return 1
