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
from bot.storage.outbox_repository import NewPost
from bot.storage.uow import UnitOfWork

CARD_TEXT_LIMIT = 2500
HISTORY_SIZE = 5


async def queue_card(ctx: Context, ticket: Ticket) -> None:
    """Queue the ticket's card for the triage channel, if the workspace has one."""
    assert ctx.workspace is not None and ctx.policy is not None
    await queue_cards(ctx.uow, ctx.now, [(ctx.workspace, ctx.policy, ticket)])


async def queue_cards(uow: UnitOfWork, now: datetime,
                      tickets: list[tuple[Workspace, DeskPolicy, Ticket]]) -> int:
    """Queue the cards of ``tickets`` (with their workspace and policy) whose workspace
    has a triage channel, as the tickets stand in this unit of work now; returns how
    many. A few queries whatever the number of tickets: the ledger refreshes thousands
    of cards after a burst of lapses, a handler one."""
    workspaces = {workspace.id: (workspace, policy) for workspace, policy, _ in tickets}
    triage = await uow.workspaces.first_channels(set(workspaces), "triage")
    wanted = {ticket.id for workspace, _, ticket in tickets if workspace.id in triage}
    if not wanted:
        return 0
    for workspace_id, channel_id in triage.items():
        await uow.tickets.place_in_triage(
            {t.id for w, _, t in tickets if w.id == workspace_id and t.id in wanted}, channel_id)
    current = await uow.tickets.many(wanted)
    people = await uow.people.many({t.requester_id for t in current.values()}
                                   | {t.owner_id for t in current.values() if t.owner_id})
    soonest = await uow.promises.soonest_open(set(current))
    history = await uow.tickets.latest_of_requesters(
        {(t.workspace_id, t.requester_id) for t in current.values()}, HISTORY_SIZE + 1)
    posts = []
    for ticket in current.values():
        workspace, policy = workspaces[ticket.workspace_id]
        earlier = [x for x in history[(ticket.workspace_id, ticket.requester_id)]
                   if x.id != ticket.id][:HISTORY_SIZE]
        card = render_card(policy, now, ticket, requester=people[ticket.requester_id],
                           owner=people.get(ticket.owner_id) if ticket.owner_id else None,
                           soonest=soonest.get(ticket.id), earlier=earlier)
        posts.append(NewPost(workspace.id, workspace.platform, card, ticket.id, kind="card"))
    await uow.outbox.add_many(posts, now)
    return len(posts)


async def earlier_tickets(uow: UnitOfWork, workspace_id: int, requester_id: int) -> list[Ticket]:
    """The requester's latest tickets, for the card of the one about to open."""
    return await uow.tickets.list(workspace_id, requester_id=requester_id, limit=HISTORY_SIZE)


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
