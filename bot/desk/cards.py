"""The ticket card agents see in the triage channel, rebuilt after every change.

Handlers queue a ``card`` outbox row; the dispatcher posts the first one and edits that
same message for every later one (see bot/outbox/card_delivery.py), so the card is
updated in place and only the newest version is ever sent.
"""

from __future__ import annotations

from datetime import datetime

from bot.core import Button, FormField, OutboundMessage
from bot.desk.policy import DeskPolicy
from bot.domain.people import Person, Workspace
from bot.domain.promises import PromiseKind
from bot.domain.tickets import Ticket
from bot.domain.timefmt import format_when
from bot.desk.context import Context
from bot.desk.quoting import defang, excerpt
from bot.storage.uow import UnitOfWork

CARD_TEXT_LIMIT = 2500
HISTORY_SIZE = 5


async def queue_card(ctx: Context, ticket: Ticket) -> None:
    """Queue the ticket's card for the triage channel, if the workspace has one."""
    assert ctx.workspace is not None and ctx.policy is not None
    await queue_card_in(ctx.uow, ctx.workspace, ctx.policy, ctx.now, ticket)


async def queue_card_in(uow: UnitOfWork, workspace: Workspace, policy: DeskPolicy,
                        now: datetime, ticket: Ticket) -> None:
    """:func:`queue_card` for code without a handler context (the ledger sweeper)."""
    triage = await uow.workspaces.channels(workspace.id, "triage")
    if not triage:
        return
    ticket = await uow.tickets.refresh(ticket.id)
    if ticket.triage_channel_id is None:
        ticket = await uow.tickets.update(ticket.id, triage_channel_id=triage[0])
    card = await build_card(uow, policy, now, ticket)
    await uow.outbox.add(workspace.id, workspace.platform, card, now, ticket_id=ticket.id,
                         kind="card")


async def build_card(uow: UnitOfWork, policy: DeskPolicy, now: datetime,
                     ticket: Ticket) -> OutboundMessage:
    """The card as a neutral message: title, fields and the agents' buttons."""
    requester = await uow.people.get(ticket.requester_id)
    owner = await uow.people.get(ticket.owner_id) if ticket.owner_id else None
    promises = await uow.promises.open_for_ticket(ticket.id)
    soonest = (promises[0].kind, promises[0].due_at) if promises else None
    earlier = await earlier_tickets(uow, ticket.workspace_id, ticket.requester_id,
                                    but=ticket.id)
    return render_card(policy, now, ticket, requester=requester, owner=owner,
                       soonest=soonest, earlier=earlier)


async def earlier_tickets(uow: UnitOfWork, workspace_id: int, requester_id: int, *,
                          but: int | None = None) -> list[Ticket]:
    """The requester's latest tickets (other than ``but``) for the card's history."""
    tickets = await uow.tickets.list(workspace_id, requester_id=requester_id,
                                     limit=HISTORY_SIZE + 1)
    return [x for x in tickets if x.id != but][:HISTORY_SIZE]


def render_card(policy: DeskPolicy, now: datetime, ticket: Ticket, *, requester: Person,
                owner: Person | None, soonest: tuple[PromiseKind, datetime] | None,
                earlier: list[Ticket]) -> OutboundMessage:
    """The card from what it shows, with no database work: ``soonest`` is the kind and
    due time of the ticket's next open promise, ``earlier`` the requester's history."""
    def t(key: str, **fields) -> str:
        return policy.templates.render(key, **fields)

    tz = policy.calendar.timezone
    next_promise = t("card.no_promise")
    if soonest is not None:
        kind, due_at = soonest
        next_promise = t("card.promise_line", what=t(f"what.{kind.value}"),
                         due=format_when(due_at, now, tz))
    history = ", ".join(t("card.history_item", ref=x.ref, status=x.status.agent_label)
                        for x in earlier) or t("card.no_history")
    value = str(ticket.id)
    return OutboundMessage(
        channel_id=ticket.triage_channel_id or "", audience="agents",
        ticket_number=ticket.number,
        title=t("card.title", ref=ticket.ref, subject=defang(ticket.subject)),
        text=defang(excerpt(ticket.first_message, CARD_TEXT_LIMIT)),
        fields=(
            (t("card.status"), ticket.status.agent_label),
            (t("card.owner"), owner.name if owner else t("card.unowned")),
            (t("card.priority"), ticket.priority.label),
            (t("card.requester"), requester.name),
            (t("card.next_promise"), next_promise),
            (t("card.history"), history),
        ),
        buttons=(
            Button(t("card.claim"), "card.claim", value, "primary"),
            Button(t("card.reply"), "card.reply", value,
                   form=(FormField("text", t("card.reply_field"), multiline=True),)),
            Button(t("card.followup"), "card.followup", value,
                   form=(FormField("when", t("card.followup_when")),
                         FormField("text", t("card.followup_text"), optional=True))),
            Button(t("card.priority_button"), "card.priority", value,
                   form=(FormField("priority", t("card.priority_field")),)),
            Button(t("card.escalate"), "card.escalate", value,
                   form=(FormField("reason", t("card.escalate_field"), optional=True),)),
            Button(t("card.resolve"), "card.resolve", value, "danger",
                   form=(FormField("summary", t("card.resolve_field"), multiline=True,
                                   optional=True),)),
        ),
    )
