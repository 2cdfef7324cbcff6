"""The ports between the desk and the platforms: what an adapter offers, what it is
handed, and how fast it may post."""

from __future__ import annotations

from datetime import timedelta
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Protocol, runtime_checkable

from bot.core.events import Event
from bot.core.messages import Delivery, OutboundMessage


@dataclass(frozen=True)
class Pacing:
    """Sustained rates an adapter asks for, in messages per second (0 = unlimited); the
    outbox keeps each channel and workspace under them (bot/outbox/pacing.py)."""

    per_channel: float = 0.0
    per_workspace: float = 0.0

@runtime_checkable
class ChatAdapter(Protocol):
    """A chat platform, as the bot needs it: start, send, stop."""

    platform: str

    async def start(self, dispatch: "EventSink") -> None:
        """Connect and feed every inbound event to ``dispatch``; return once listening."""

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        """Post (or edit) a message. ``idempotency_key`` is stable across retries of the
        same outbox row, so a re-attempt never posts twice; ``attempt`` > 1 tells the
        adapter a previous try may have reached the platform, and ``since`` how long
        ago the first try could at the earliest have been made (an adapter that looks
        for an earlier try's message looks back that far, no further). Raises
        DeliveryError.

        ``audience`` "home" means: publish ``message`` as ``direct_to``'s home view.
        A post queued as a thread root returns, as ``Delivery.message_id``, the id
        later replies thread under."""

    async def stop(self) -> None:
        """Disconnect and release resources."""

    # Optional: ``async def is_connected(self) -> bool``, whether the platform can reach
    # the desk right now (``/readyz``). An adapter without it has no connection to lose.

class EventSink(Protocol):
    """Where adapters hand inbound events (the router)."""

    async def __call__(self, event: Event) -> None:
        """Handle one event."""



# An aiohttp request handler (the desk's one web stack): request in, response out.
WebHandler = Callable[[Any], Awaitable[Any]]


class WebRoutes(Protocol):
    """The process's one web server, as a platform sees it: somewhere to add a route
    before it starts (Slack's HTTP mode adds ``POST /slack/events``), and the URL people
    and platforms reach it at."""

    def add_route(self, method: str, path: str, handler: WebHandler) -> None:
        """Serve ``method`` requests for ``path`` with ``handler``."""

    def url_for(self, path: str) -> str:
        """The full URL of ``path`` as others reach it (HELPDESK_PUBLIC_URL when set)."""


class Inbox(Protocol):
    """Where an adapter makes an inbound event durable before acknowledging it, for a
    platform that will not deliver again what it saw acknowledged (Slack's Events API):
    ``keep`` before the acknowledgement, ``done`` once the desk has handled it. What is
    kept and not done when its process dies is handed, by any instance, to the
    platform's replay (bot/storage/inbox.py)."""

    async def keep(self, platform: str, key: str, payload: str) -> bool:
        """Write the event ``key`` (its raw ``payload``) before it is acknowledged.
        False when it is kept already (a re-delivery: acknowledge it and do nothing
        more). Raises when it cannot be written: then do not acknowledge it."""

    async def done(self, platform: str, key: str) -> None:
        """The event ``key`` was handled (or needs no handling): forget it."""

    async def retry_later(self, platform: str, key: str) -> None:
        """Handling the event ``key`` failed or was cut short: let any instance try it
        again from the inbox."""
