"""Neutral event and message types, and the small protocol every chat adapter meets.

Adapters translate platform payloads into these events on the way in and these
messages into API calls on the way out; nothing else in the bot knows a platform.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Actor:
    """Who did something, as the platform names them."""

    user_id: str
    display_name: str = ""
    email: str | None = None
    tz: str | None = None
    is_platform_admin: bool = False
    is_bot: bool = False
    # The desk role ("requester", "agent" or "lead") the person's roles on the platform
    # give them, when the adapter maps platform roles (Discord); None when it does not
    # or could not tell, which leaves the stored role alone.
    platform_role: str | None = None


@dataclass(frozen=True)
class Event:
    """Fields every inbound event has. ``event_id`` is unique per platform and is
    what makes a re-delivered event a no-op."""

    platform: str
    workspace_id: str
    event_id: str
    actor: Actor
    channel_id: str
    # Opaque to the bot: what the platform needs to answer this very event privately
    # (Slack's response_url, Discord's interaction id and token). Copied onto answers.
    reply_token: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class IncomingMessage(Event):
    """A message someone wrote where the bot can see it."""

    text: str = ""
    message_id: str = ""
    thread_id: str | None = None
    is_direct: bool = False
    mentions_bot: bool = False


@dataclass(frozen=True)
class CommandInvoked(Event):
    """A slash command or console command: ``/ticket claim 4`` is name "ticket", text "claim 4"."""

    name: str = ""
    text: str = ""
    thread_id: str | None = None


@dataclass(frozen=True)
class ButtonPressed(Event):
    """A button on a message the bot posted; ``value`` carries what the button is about."""

    action: str = ""
    value: str = ""
    message_id: str | None = None
    thread_id: str | None = None
    form: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReactionAdded(Event):
    """An emoji reaction on a message (the ticket emoji opens a ticket for its author)."""

    emoji: str = ""
    message_id: str = ""
    message_author: Actor | None = None
    message_text: str = ""
    thread_id: str | None = None
    # The platform would not let us read the message (rate limit, missing scope,
    # deleted): the ticket still opens, with a link to it when there is one.
    message_unreadable: bool = False
    message_link: str = ""


@dataclass(frozen=True)
class FormField:
    """One input a button asks for before it is pressed (adapters show a modal)."""

    name: str
    label: str
    multiline: bool = False
    optional: bool = False


@dataclass(frozen=True)
class HomeOpened(Event):
    """Someone opened the bot's home surface (Slack's App Home tab)."""


@dataclass(frozen=True)
class Button:
    """A button under a message: ``action`` is routed back as a ButtonPressed. A button
    with ``form`` fields is pressed only once they are filled in, and the answers
    arrive in ``ButtonPressed.form``."""

    label: str
    action: str
    value: str = ""
    style: str = "default"  # default | primary | danger
    form: tuple[FormField, ...] = ()


@dataclass(frozen=True)
class OutboundMessage:
    """What to say, where. ``ephemeral_to`` shows it only to that user;
    ``edit_of`` replaces an earlier message the bot posted."""

    channel_id: str
    text: str
    thread_id: str | None = None
    ephemeral_to: str | None = None
    buttons: tuple[Button, ...] = ()
    edit_of: str | None = None
    title: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    # Which ticket this is about: lets adapters label threads and tag message metadata.
    ticket_number: int | None = None
    # "requester" (the requester's thread), "agents" (triage) or "person" (one person).
    audience: str = "requester"
    # A direct message to this user id; the adapter opens the conversation itself and
    # ``channel_id`` is ignored.
    direct_to: str | None = None
    # The event's reply_token when this answers an interaction (see Event).
    reply_token: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for the outbox."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OutboundMessage":
        """The inverse of :meth:`to_dict`."""
        data = dict(data)
        data["buttons"] = tuple(
            Button(**{**b, "form": tuple(FormField(**f) for f in b.get("form", ()))})
            for b in data.get("buttons", ()))
        data["fields"] = tuple(tuple(f) for f in data.get("fields", ()))
        return cls(**data)


@dataclass(frozen=True)
class Delivery:
    """A message as the platform stored it: its id, for threads and later edits."""

    message_id: str
    channel_id: str
    thread_id: str | None = None


class DeliveryError(Exception):
    """A send failed. ``retry_after`` (seconds) is set when the platform rate-limited us;
    ``permanent`` when trying again cannot help (a deleted channel, a missing scope)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


@runtime_checkable
class ChatAdapter(Protocol):
    """A chat platform, as the bot needs it: start, send, stop."""

    platform: str

    async def start(self, dispatch: "EventSink") -> None:
        """Connect and feed every inbound event to ``dispatch``; return once listening."""

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1) -> Delivery:
        """Post (or edit) a message. ``idempotency_key`` is stable across retries of the
        same outbox row, so a re-attempt never posts twice; ``attempt`` > 1 tells the
        adapter a previous try may have reached the platform. Raises DeliveryError.

        ``audience`` "home" means: publish ``message`` as ``direct_to``'s home view.
        A post queued as a thread root returns, as ``Delivery.message_id``, the id
        later replies thread under."""

    async def stop(self) -> None:
        """Disconnect and release resources."""


class EventSink(Protocol):
    """Where adapters hand inbound events (the router)."""

    async def __call__(self, event: Event) -> None:
        """Handle one event."""
