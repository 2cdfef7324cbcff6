"""A fake chat adapter that records what the desk says, as a transcript people can read."""

from __future__ import annotations

from datetime import timedelta
import itertools
from dataclasses import dataclass

from bot.core import Delivery, DeliveryError, EventSink, OutboundMessage


@dataclass(frozen=True)
class Sent:
    """One message the desk delivered, with the key it was delivered under."""

    message: OutboundMessage
    idempotency_key: str
    message_id: str

    @property
    def text(self) -> str:
        """The message text."""
        return self.message.text


class RecordingAdapter:
    """Accepts every send (or fails the next ones on request) and remembers it."""

    def __init__(self, platform: str = "test") -> None:
        self.platform = platform
        self.sent: list[Sent] = []
        self.dispatch: EventSink | None = None
        self._ids = itertools.count(1)
        self.failures: list[DeliveryError] = []

    async def start(self, dispatch: EventSink) -> None:
        """Remember the router."""
        self.dispatch = dispatch

    async def stop(self) -> None:
        """Nothing to release."""

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        """Record the message, or raise the next queued failure."""
        if self.failures:
            raise self.failures.pop(0)
        message_id = f"out-{next(self._ids)}"
        self.sent.append(Sent(message, idempotency_key, message_id))
        return Delivery(message_id, message.channel_id, message.thread_id)

    def to(self, *, channel_id: str | None = None, thread_id: str | None = None,
           ephemeral_to: str | None = None, audience: str | None = None) -> list[Sent]:
        """Messages matching every filter given."""
        return [s for s in self.sent
                if (channel_id is None or s.message.channel_id == channel_id)
                and (thread_id is None or s.message.thread_id == thread_id)
                and (ephemeral_to is None or s.message.ephemeral_to == ephemeral_to)
                and (audience is None or s.message.audience == audience)]

    def transcript(self) -> str:
        """Everything said, one block per message, as a person would read it."""
        blocks = []
        for s in self.sent:
            m = s.message
            where = (f"only {m.ephemeral_to}" if m.ephemeral_to else
                     f"{m.channel_id}" + (f" thread {m.thread_id}" if m.thread_id else ""))
            buttons = "".join(f" [{b.label}]" for b in m.buttons)
            blocks.append(f"({where}) {m.text}{buttons}")
        return "\n".join(blocks)
