"""A ChatAdapter that delivers over HTTP to :class:`tests.support.fake_chat.FakeChat`.

It is what a real adapter is to the outbox dispatcher: ``send`` either returns the
platform's message id or raises :class:`DeliveryError` (with ``retry_after`` on a
429), and it passes the dispatcher's idempotency key through so the platform can drop
a repeat. One ``aiohttp.ClientSession`` lives from :meth:`start` to :meth:`stop`.
"""

from __future__ import annotations

from datetime import timedelta
import aiohttp

from bot.core import Delivery, DeliveryError, EventSink, OutboundMessage
from bot.outbox.pacing import Pacing


class HttpChatAdapter:
    """Posts each outbound message as JSON to ``{base_url}/messages``."""

    def __init__(self, base_url: str, platform: str = "test", pacing: Pacing | None = None,
                 *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        # Read by the dispatcher's pacer: how fast each channel may be posted to.
        self.pacing = pacing
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def start(self, dispatch: EventSink | None = None) -> None:
        """Open the HTTP session. The fake has no inbound events, so ``dispatch`` is unused."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def stop(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        """Post ``message``; a 429 raises DeliveryError(retry_after=...), any other
        failure a plain DeliveryError (permanent for a 4xx the platform will never accept).
        The key always goes with the request, so ``attempt`` needs no special handling;
        it is passed on for the fake to record."""
        if self._session is None:
            raise RuntimeError("HttpChatAdapter.send called before start()")
        body = {"channel": message.channel_id, "thread": message.thread_id,
                "text": message.text, "key": idempotency_key, "direct_to": message.direct_to,
                "attempt": attempt}
        try:
            async with self._session.post(f"{self.base_url}/messages", json=body) as response:
                if response.status == 429:
                    raise DeliveryError("rate limited (HTTP 429)",
                                        retry_after=_retry_after(response.headers))
                if response.status >= 400:
                    text = (await response.text())[:200]
                    raise DeliveryError(f"HTTP {response.status}: {text}",
                                        permanent=400 <= response.status < 500)
                data = await response.json()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        return Delivery(str(data["id"]), data.get("channel") or message.channel_id,
                        data.get("thread"))


def _retry_after(headers) -> float:
    """Seconds from a ``Retry-After`` header (fractional allowed); 1 s if missing or odd."""
    try:
        return max(float(headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return 1.0
