"""Promise kinds and the rules for when a promise is kept.

A promise is a time the desk stated to a requester. People keep promises by acting in
time; when one falls due unkept, the bot covers it (see the ledger sweeper).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class PromiseKind(str, Enum):
    """Every kind of time the desk states."""

    FIRST_RESPONSE = "first_response"
    FOLLOW_UP = "follow_up"
    STATUS_UPDATE = "status_update"
    RESOLUTION = "resolution"
    AWAITING_REQUESTER = "awaiting_requester"
    AWAITING_CONFIRMATION = "awaiting_confirmation"


class PromiseStatus(str, Enum):
    """Where a promise stands. ``sending`` means a sweeper holds it under a lease."""

    PENDING = "pending"
    SENDING = "sending"
    KEPT = "kept"
    MISSED = "missed"
    CANCELLED = "cancelled"


class KeptBy(str, Enum):
    """Who kept a promise: a person in time, or the bot covering for one."""

    PERSON = "person"
    BOT = "bot"


@dataclass(frozen=True)
class Promise:
    """A promise as the domain sees it."""

    id: int
    workspace_id: int
    ticket_id: int
    kind: PromiseKind
    due_at: datetime
    made_at: datetime
    status: PromiseStatus = PromiseStatus.PENDING
    owner_id: int | None = None
    text: str = ""
    misses_in_row: int = 0
    warn_at: datetime | None = None


# What a person does that keeps each kind of promise (see `kept_by_action`).
_KEPT_BY = {
    PromiseKind.FIRST_RESPONSE: frozenset({"claim", "reply"}),
    PromiseKind.FOLLOW_UP: frozenset({"reply"}),
    PromiseKind.STATUS_UPDATE: frozenset({"reply"}),
    PromiseKind.RESOLUTION: frozenset({"resolve"}),
    PromiseKind.AWAITING_REQUESTER: frozenset({"requester_reply"}),
    PromiseKind.AWAITING_CONFIRMATION: frozenset({"requester_confirm"}),
}


def kept_by_action(kind: PromiseKind, action: str) -> bool:
    """True when ``action`` (claim, reply, resolve, requester_reply, requester_confirm)
    keeps a promise of ``kind``."""
    return action in _KEPT_BY[kind]
