"""A heads-up to the owner before a promise falls due (at ``warn_at`` of the SLA target)."""

from __future__ import annotations

from datetime import datetime

from bot.desk import Desk
from bot.domain.promises import Promise
from bot.domain.timefmt import format_when
from bot.handlers.notify import to_agents, to_person
from bot.storage.uow import UnitOfWork


async def warn_before_breach(uow: UnitOfWork, desk: Desk, promise: Promise, now: datetime) -> None:
    """Tell the owner (or the triage channel, when nobody owns the ticket) what is due when."""
    ticket = await uow.tickets.get(promise.ticket_id)
    if not ticket.status.is_active:
        return
    workspace = await uow.workspaces.get(ticket.workspace_id)
    policy = desk.policy(workspace)
    requester = await uow.people.get(ticket.requester_id)
    owner_id = promise.owner_id or ticket.owner_id
    owner = await uow.people.get(owner_id) if owner_id else None
    tz = (owner.tz if owner else None) or policy.calendar.timezone
    text = policy.templates.render(
        "lapse.warning", ref=ticket.ref, requester=requester.name,
        what=policy.templates.render(f"what.{promise.kind.value}"),
        due=format_when(promise.due_at, now, tz))
    message = to_person(owner, text, ticket) if owner else to_agents(ticket, text)
    if message is not None:
        uow.outbox.queue(workspace.id, workspace.platform, message, now, ticket_id=ticket.id)
