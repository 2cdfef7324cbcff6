"""Notices to staff that one sweep gathers into one message per person.

When many promises lapse at once (everything promised "by opening time" falls due at
9:00), every cover reminds its owner and some escalate to the leads. One direct
message per lapse would bury an agent in dozens of near-identical messages within a
second, and on the platforms each of those is a separate post against the same
rate limit. So a cover does not post its reminder or escalation itself: it hands a
``Notice`` to whoever is covering the batch, and after the batch the notices for one
person of one kind become one message. A person with a single notice gets exactly the
message they would have got alone; several become a short list under one heading.
Either way the message is queued in the same transaction as the covers it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import OutboundMessage
from bot.desk.policy import DeskPolicy
from bot.domain.people import Person, Workspace
from bot.domain.tickets import Ticket
from bot.desk.notify import to_person
from bot.storage.uow import UnitOfWork

# A combined message lists at most this many tickets; more make several messages. A
# DM that scrolls for pages is hard to work through, and every ticket is still named.
MAX_LINES = 15


@dataclass(frozen=True)
class Notice:
    """One thing to tell one member of staff about one ticket."""

    person: Person
    workspace: Workspace
    policy: DeskPolicy
    ticket_id: int
    kind: str  # the template of the combined message, e.g. "lapse.owner_reminders"
    alone: OutboundMessage  # the message when this is the person's only notice of its kind
    line: str  # this notice's line in a combined message


def notice(person: Person, workspace: Workspace, policy: DeskPolicy, ticket: Ticket,
           key: str, **fields) -> Notice:
    """A notice rendered from ``lapse.<key>`` (alone) and ``lapse.<key>_line`` (listed);
    the combined message is ``lapse.<key>s``."""
    render = policy.templates.render
    return Notice(person, workspace, policy, ticket.id, f"lapse.{key}s",
                  to_person(person, render(f"lapse.{key}", **fields), ticket),
                  render(f"lapse.{key}_line", **fields))


def messages_for(notices: list[Notice]) -> list[tuple[Workspace, OutboundMessage, int | None]]:
    """One message per person and kind, in the order each was first noticed, with the
    ticket it is about (None for a list of several)."""
    grouped: dict[tuple[int, str], list[Notice]] = {}
    for item in notices:
        grouped.setdefault((item.person.id, item.kind), []).append(item)
    messages = []
    for group in grouped.values():
        for start in range(0, len(group), MAX_LINES):
            part = group[start:start + MAX_LINES]
            first = part[0]
            if len(part) == 1:
                messages.append((first.workspace, first.alone, first.ticket_id))
                continue
            text = first.policy.templates.render(first.kind, count=len(part),
                                                 lines="\n".join(item.line for item in part))
            messages.append((first.workspace, to_person(first.person, text), None))
    return messages


def queue_notices(uow: UnitOfWork, notices: list[Notice], now: datetime) -> int:
    """Queue the messages for ``notices`` in this unit of work; returns how many."""
    messages = messages_for(notices)
    for workspace, message, ticket_id in messages:
        uow.outbox.queue(workspace.id, workspace.platform, message, now, ticket_id=ticket_id)
    return len(messages)
