"""Notices to staff that one sweep gathers into one message per person.

When many promises lapse at once (everything promised "by opening time" falls due at
9:00), every cover reminds its owner and some escalate to the leads. One direct
message per lapse would bury an agent in dozens of near-identical messages within a
second, and on the platforms each of those is a separate post against the same
rate limit. So a cover's plan does not post its reminder or escalation: it carries a
``Notice``, and the sweep turns all the notices for one person of one kind into one
message. A person with a single notice gets exactly the message they would have got
alone; several become a short list under one heading. Either way the message is
queued in the same transaction as the covers it is about.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import OutboundMessage
from bot.desk.notify import to_person
from bot.desk.policy import DeskPolicy
from bot.domain.people import Person, Workspace
from bot.domain.tickets import Ticket
from bot.storage.outbox_repository import NewPost

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


def gather(notices: list[Notice]) -> list[NewPost]:
    """One message per person and kind, in the order each was first noticed (about its
    ticket when it names one ticket)."""
    grouped: dict[tuple[int, str], list[Notice]] = {}
    for item in notices:
        grouped.setdefault((item.person.id, item.kind), []).append(item)
    posts = []
    for group in grouped.values():
        for start in range(0, len(group), MAX_LINES):
            part = group[start:start + MAX_LINES]
            first = part[0]
            workspace = first.workspace
            if len(part) == 1:
                posts.append(NewPost(workspace.id, workspace.platform, first.alone,
                                     first.ticket_id))
                continue
            text = first.policy.templates.render(first.kind, count=len(part),
                                                 lines="\n".join(item.line for item in part))
            posts.append(NewPost(workspace.id, workspace.platform, to_person(first.person, text)))
    return posts
