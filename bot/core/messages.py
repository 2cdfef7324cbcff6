"""Outbound messages: what the desk says, where, and what the platform gave back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FormField:
    """One input a button asks for before it is pressed (adapters show a modal)."""

    name: str
    label: str
    multiline: bool = False
    optional: bool = False

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
        """A JSON-ready dict for the outbox. Written by hand rather than with
        ``dataclasses.asdict``, which deep-copies every value: a burst of covers writes
        thousands of messages, and that copy was most of the cost of writing them."""
        data = dict(self.__dict__)
        if self.buttons:
            data["buttons"] = [
                {**button.__dict__, "form": [dict(f.__dict__) for f in button.form]}
                for button in self.buttons]
        else:
            data["buttons"] = []
        data["fields"] = [list(pair) for pair in self.fields]
        return data

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
