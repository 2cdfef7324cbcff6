"""Inbound events: what adapters hand the desk, in no platform's terms.

Each event's ``event_id`` is unique per platform, which is what makes a re-delivered
event a no-op.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields


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
    # Run in a direct message with the bot (or one the platform answers in it), not in
    # a channel: "here" then names no channel the desk could use.
    is_direct: bool = False

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
class HomeOpened(Event):
    """Someone opened the bot's home surface (Slack's App Home tab)."""


_KINDS: dict[str, type[Event]] = {kind.__name__: kind for kind in (
    IncomingMessage, CommandInvoked, ButtonPressed, ReactionAdded, HomeOpened)}


def event_to_json(event: Event) -> str:
    """``event`` as JSON, to keep it durably (the inbox) and read it back with
    :func:`event_from_json`, in this process or another."""
    return json.dumps({"kind": type(event).__name__, "fields": asdict(event)})


def event_from_json(text: str) -> Event:
    """The event :func:`event_to_json` wrote."""
    saved = json.loads(text)
    kind = _KINDS[saved["kind"]]
    values = dict(saved["fields"])
    for name in ("actor", "message_author"):
        if isinstance(values.get(name), dict):
            values[name] = Actor(**values[name])
    known = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in values.items() if k in known})

