"""An incident's one voice: the same news, as a new message in every linked requester's
thread and in the workspace's status channel.

A broadcast is outbox rows written in the caller's transaction, one per requester
thread (each delivered under its own idempotency key, ``hd-<row id>``, and paced by the
adapter's declared limits: bot/outbox/pacing.py), so a crash in the middle of sending
resumes with the rows still pending and nobody gets it twice. Each linked ticket's
timeline records the update. Features (``/incident update``) and the ledger (covering
the incident's lapsed promise) both broadcast through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from bot.core import OutboundMessage
from bot.domain.incidents import Incident
from bot.domain.people import Person, Workspace
from bot.domain.tickets import Ticket
from bot.desk.notify import to_requester
from bot.storage.outbox_repository import NewPost
from bot.storage.ticket_repository import event_row
from bot.storage.uow import UnitOfWork

# What each requester reads: their ticket and themselves in, the words out (their own
# time zone is theirs to read the next time in).
Wording = Callable[[Ticket, Person], str]


async def broadcast(uow: UnitOfWork, workspace: Workspace, incident: Incident,
                    tickets: list[Ticket], words_for: Wording, status_text: str | None,
                    now: datetime, *, timeline_kind: str = "incident_update",
                    timeline_body: str = "", author_id: int | None = None) -> int:
    """Queue one message per linked ticket's requester thread (``words_for`` each) and
    ``status_text`` for the status channel, if the workspace named one; record the
    update on every ticket's timeline. Returns how many requester threads it reaches."""
    people = await uow.people.many({t.requester_id for t in tickets})
    posts = [NewPost(workspace.id, workspace.platform,
                     to_requester(ticket, words_for(ticket, people[ticket.requester_id])),
                     ticket.id)
             for ticket in tickets if ticket.channel_id]
    status = await uow.workspaces.channels(workspace.id, "status")
    if status and status_text:
        posts.append(NewPost(workspace.id, workspace.platform, OutboundMessage(
            channel_id=status[0], text=status_text, audience="agents")))
    await uow.outbox.add_many(posts, now)
    await uow.tickets.add_events([
        event_row(ticket.id, timeline_kind, now, author_id=author_id, body=timeline_body,
                  incident=incident.ref)
        for ticket in tickets])
    return sum(1 for ticket in tickets if ticket.channel_id)
