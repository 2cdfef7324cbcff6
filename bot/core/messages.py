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
    # What the input holds when the form opens (an article being edited), and the most
    # it takes (0: the platform's usual limit). Only forms a command opens at once carry
    # them; a button's form travels in its value, which has no room for them.
    initial: str = ""
    max_chars: int = 0


@dataclass(frozen=True)
class Form:
    """A form a command opens at once (a modal), instead of being answered: ``title``
    heads it, and submitting it presses the button ``action`` with ``value`` and the
    answers by field name, like a button's form."""

    title: str
    action: str
    value: str
    fields: tuple[FormField, ...]

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
    # A question's answer: once one of its message's buttons is pressed, the question is
    # spent (the console's /press then reaches an older one still open).
    once: bool = False

@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a ticket's transcript): its name, media type and
    text content (the outbox stores messages as JSON, so files are text)."""

    filename: str
    content_type: str
    text: str

    @property
    def size(self) -> int:
        """Its length in bytes, as uploaded (UTF-8)."""
        return len(self.text.encode("utf-8"))


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
    # A message too long for one platform message goes as several parts, in order. The
    # ids of the parts already delivered (recorded on the outbox row when a later part
    # failed), so a retry sends only the rest and never a part twice.
    parts_sent: tuple[str, ...] = ()
    # Files to send with the message (only to one person: ``direct_to``).
    attachments: tuple[Attachment, ...] = ()

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
        data["parts_sent"] = list(self.parts_sent)
        data["attachments"] = [dict(a.__dict__) for a in self.attachments]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OutboundMessage":
        """The inverse of :meth:`to_dict`."""
        data = dict(data)
        data["buttons"] = tuple(
            Button(**{**b, "form": tuple(FormField(**f) for f in b.get("form", ()))})
            for b in data.get("buttons", ()))
        data["fields"] = tuple(tuple(f) for f in data.get("fields", ()))
        data["parts_sent"] = tuple(data.get("parts_sent", ()))
        data["attachments"] = tuple(Attachment(**a) for a in data.get("attachments", ()))
        return cls(**data)

@dataclass(frozen=True)
class Delivery:
    """A message as the platform stored it: its id, for threads and later edits."""

    message_id: str
    channel_id: str
    thread_id: str | None = None

class DeliveryError(Exception):
    """A send failed. ``retry_after`` (seconds) is set when the platform rate-limited us;
    ``permanent`` when trying again cannot help (a deleted channel, a missing scope);
    ``parts_sent`` when some parts of a long message did go out."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False,
                 parts_sent: tuple[str, ...] = ()):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        # Of a message sent in several parts: the ids of every part delivered so far
        # (those of earlier attempts included), so the retry continues after them.
        self.parts_sent = parts_sent
