"""A heads-up to the owner before a promise falls due (at ``warn_at`` of the SLA target)."""

from __future__ import annotations

from datetime import datetime

from bot.desk.policy import Desk
from bot.domain.promises import Promise
from bot.domain.timefmt import format_when
from bot.ledger.notices import Notice, notice
from bot.desk.notify import to_agents
from bot.storage.uow import UnitOfWork


async def warn_before_breach(uow: UnitOfWork, desk: Desk, promise: Promise, now: datetime,
                             notices: list[Notice]) -> None:
    """Tell the owner (or the triage channel, when nobody owns the ticket) what is due when.
    An owner's heads-up goes into ``notices``, for the sweep to send with the others it
    gathered (bot/ledger/notices.py); the triage channel's is queued at once."""
    ticket = await uow.tickets.get(promise.ticket_id)
    if not ticket.status.is_active:
        return
    workspace = await uow.workspaces.get(ticket.workspace_id)
    policy = desk.policy(workspace)
    requester = await uow.people.get(ticket.requester_id)
    owner_id = promise.owner_id or ticket.owner_id
    owner = await uow.people.get(owner_id) if owner_id else None
    tz = (owner.tz if owner else None) or policy.calendar.timezone
    fields = dict(ref=ticket.ref, requester=requester.name,
                  what=policy.templates.render(f"what.{promise.kind.value}"),
                  due=format_when(promise.due_at, now, tz))
    if owner is None:
        message = to_agents(ticket, policy.templates.render("lapse.warning", **fields))
        if message is not None:
            uow.outbox.queue(workspace.id, workspace.platform, message, now, ticket_id=ticket.id)
        return
    notices.append(notice(owner, workspace, policy, ticket, "warning", **fields))
