"""Ticket states and the guarded transitions between them.

A ticket moves through a small, explicit state machine. Every change of state goes
through :func:`transition`, which either returns the new state or raises
:class:`IllegalTransition`, a :class:`DomainError` that names the message telling
people why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.domain.errors import DomainError, Phrase, Unreadable
from bot.domain.priority import Priority


class TicketStatus(str, Enum):
    """Where a ticket stands in its life."""

    NEW = "new"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_REQUESTER = "waiting_requester"
    WAITING_THIRD_PARTY = "waiting_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """True while the desk still owes the requester work on this ticket."""
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


# Every status in which the desk still owes the requester work, for queries.
ACTIVE_STATUSES = tuple(status for status in TicketStatus if status.is_active)



class TicketAction(str, Enum):
    """Everything that can change a ticket's state."""

    ACKNOWLEDGE = "acknowledge"
    CLAIM = "claim"
    WAIT_ON_REQUESTER = "wait_on_requester"
    WAIT_ON_THIRD_PARTY = "wait_on_third_party"
    RESUME = "resume"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    REJECT_RESOLUTION = "reject_resolution"
    AUTO_CLOSE = "auto_close"
    REOPEN = "reopen"
    SELF_SOLVE = "self_solve"  # the requester found the answer in a suggested article


S = TicketStatus
_WORKING = frozenset({S.OPEN, S.IN_PROGRESS, S.WAITING_REQUESTER, S.WAITING_THIRD_PARTY})

# action -> states it may start from. The target state is decided in `transition`
# because reopening depends on whether the ticket still has an owner.
_ALLOWED_FROM: dict[TicketAction, frozenset[TicketStatus]] = {
    TicketAction.ACKNOWLEDGE: frozenset({S.NEW}),
    TicketAction.CLAIM: frozenset({S.NEW}) | _WORKING,
    TicketAction.WAIT_ON_REQUESTER: frozenset({S.OPEN, S.IN_PROGRESS, S.WAITING_THIRD_PARTY}),
    TicketAction.WAIT_ON_THIRD_PARTY: frozenset({S.OPEN, S.IN_PROGRESS, S.WAITING_REQUESTER}),
    TicketAction.RESUME: frozenset({S.WAITING_REQUESTER, S.WAITING_THIRD_PARTY}),
    TicketAction.RESOLVE: _WORKING,
    TicketAction.CONFIRM: frozenset({S.RESOLVED}),
    TicketAction.REJECT_RESOLUTION: frozenset({S.RESOLVED}),
    TicketAction.AUTO_CLOSE: frozenset({S.RESOLVED, S.WAITING_REQUESTER}),
    TicketAction.REOPEN: frozenset({S.RESOLVED, S.CLOSED}),
    TicketAction.SELF_SOLVE: frozenset({S.NEW}) | _WORKING,
}

_FIXED_TARGET = {
    TicketAction.ACKNOWLEDGE: S.OPEN,
    TicketAction.CLAIM: S.IN_PROGRESS,
    TicketAction.WAIT_ON_REQUESTER: S.WAITING_REQUESTER,
    TicketAction.WAIT_ON_THIRD_PARTY: S.WAITING_THIRD_PARTY,
    TicketAction.RESOLVE: S.RESOLVED,
    TicketAction.CONFIRM: S.CLOSED,
    TicketAction.AUTO_CLOSE: S.CLOSED,
    TicketAction.SELF_SOLVE: S.CLOSED,
}


class IllegalTransition(DomainError):
    """The ticket's current state does not allow the requested action."""

    def __init__(self, number: int | None, status: TicketStatus, action: TicketAction) -> None:
        super().__init__(
            "errors.illegal_transition" if number is not None
            else "errors.illegal_transition_unnumbered",
            number=number, status=Phrase(f"status.{status.value}"),
            action=Phrase(f"transitions.{action.value}"))
        self.status = status
        self.action = action


def allowed_actions(status: TicketStatus) -> frozenset[TicketAction]:
    """The actions that may be taken on a ticket in ``status``."""
    return frozenset(a for a, sources in _ALLOWED_FROM.items() if status in sources)


def transition(
    status: TicketStatus, action: TicketAction, *, has_owner: bool, number: int | None = None
) -> TicketStatus:
    """Return the state ``action`` leads to from ``status``, or raise IllegalTransition.

    Resuming, a "no, not solved" answer and reopening send a ticket back to its owner
    when it has one, and back to the open queue when it does not.
    """
    if status not in _ALLOWED_FROM[action]:
        raise IllegalTransition(number, status, action)
    if action in _FIXED_TARGET:
        return _FIXED_TARGET[action]
    return S.IN_PROGRESS if has_owner else S.OPEN


@dataclass(frozen=True)
class Ticket:
    """A request from one person, as the domain sees it (a plain value, no I/O)."""

    id: int
    workspace_id: int
    number: int
    requester_id: int
    status: TicketStatus
    priority: Priority
    subject: str
    first_message: str
    created_at: datetime
    owner_id: int | None = None
    channel_id: str | None = None
    thread_id: str | None = None
    triage_channel_id: str | None = None
    triage_message_id: str | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    in_a_hurry: bool = False
    # The team that has it (bot/domain/teams.py); None: the workspace's default team.
    team_id: int | None = None
    # A lead's service exception: target name -> seconds, winning over the team's.
    sla_exception: dict | None = None
    # The open incident its requester was asked about at intake and has not answered:
    # counted on that incident's card, without a card of its own (bot/desk/cards.py).
    offered_incident_id: int | None = None

    @property
    def ref(self) -> str:
        """How people write this ticket: ``#N``."""
        return f"#{self.number}"


# The tickets.number column is a 32-bit INTEGER; row ids are 64-bit. A number past
# either is no ticket's, and must not reach the database: SQLite raises OverflowError
# and PostgreSQL an error for a parameter out of its column's range.
MAX_TICKET_NUMBER = 2**31 - 1
MAX_ROW_ID = 2**63 - 1
# Digits beyond these are said as "…" when a refusal repeats a number.
_SHOWN_DIGITS = 20
# More digits than any number in range has, even with leading zeros kept: such a number
# is out of range without being converted (int() refuses more than 4,300 digits).
_MAX_DIGITS = 40


class UnknownTicket(DomainError):
    """No ticket with that number here (or none the person may see: the answer is the
    same, so nobody learns how many tickets the desk has)."""

    def __init__(self, number: int | str) -> None:
        super().__init__("errors.unknown_ticket", number=shown_number(number))


def shown_number(number: int | str) -> str:
    """A number as a refusal repeats it: without leading zeros, and cut with "…" when
    someone typed thousands of digits."""
    digits = str(number).lstrip("0") or "0"
    return digits if len(digits) <= _SHOWN_DIGITS else digits[:_SHOWN_DIGITS - 8] + "…"


def _decimal(text: str) -> int | None:
    """``text`` as a whole number when it is only decimal digits (of any script: full-
    width digits are digits too), else None. Past ``_MAX_DIGITS`` digits it is -1,
    standing for a number too big to be anything's."""
    if not text or not all(c.isdecimal() for c in text):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return -1
    return int(digits)  # int() reads every script's decimal digits


def read_ticket_number(word: str) -> int:
    """The ticket number in what a person wrote: ``12``, ``#12`` (or ``#１２``).

    Raises :class:`Unreadable` ``input.not_a_ticket_number`` for a word that tries to be
    one and is not (``-5``, ``#abc``, ``1.5``), ``input.need_ticket_number`` for any
    other word or none, and ``input.ticket_number_zero`` / ``input.ticket_number_too_big``
    for a number no ticket can have (``0``, or beyond the database's range), before
    anything is looked up."""
    word = word.strip()
    body = word[1:] if word.startswith("#") else word
    number = _decimal(body)
    if number is None:
        first = word[:1]
        if first in ("#", "-", "+", "−") or first.isdigit():
            raise Unreadable("input.not_a_ticket_number", text=word)
        raise Unreadable("input.need_ticket_number")
    # A number no ticket can have is answered with what is wrong with it, as "-5" is,
    # not as a ticket that might exist but cannot be found.
    if number == 0:
        raise Unreadable("input.ticket_number_zero", text=word)
    if not 1 <= number <= MAX_TICKET_NUMBER:
        raise Unreadable("input.ticket_number_too_big",
                         number=shown_number(body if number < 0 else number))
    return number


def read_row_id(text: str) -> int | None:
    """A row id as a button carries it (``"42"``), or None when ``text`` cannot be one:
    not plain digits, zero, or past the database's 64-bit range."""
    text = text.strip()
    if not text.isascii():
        return None
    number = _decimal(text)
    return number if number is not None and 1 <= number <= MAX_ROW_ID else None


SUBJECT_LIMIT = 80


def subject_from(text: str) -> str:
    """A one-line subject from the requester's first message, cut at a word boundary,
    or inside a long word when cutting at a boundary would lose most of what fits
    ("VPN" and 10,000 letters is not just "VPN…")."""
    line = " ".join(text.split())
    if len(line) <= SUBJECT_LIMIT:
        return line or "(no text)"
    fits = line[: SUBJECT_LIMIT - 1]
    cut = fits.rsplit(" ", 1)[0]
    if len(cut) < SUBJECT_LIMIT // 2:
        cut = fits
    return cut.rstrip() + "…"


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a ticket's history. ``kind`` is one of: ``opened``, ``requester``
    (a message from the requester), ``reply`` (public, from an agent), ``note``
    (internal, never shown to the requester), ``status``, ``owner``, ``priority``,
    ``promise``, ``bot`` (something the bot said on its own), ``feedback``."""

    kind: str
    body: str
    created_at: datetime
    author_id: int | None = None
    data: dict | None = None
