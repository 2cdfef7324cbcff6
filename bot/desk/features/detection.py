"""Detection: new tickets that look like one problem get one card, never one each.

When a new ticket looks like enough others opened in a short window (default: 5
tickets in 15 minutes whose texts match, compared with the knowledge base's analysis
of text, bot/domain/knowledge.py), they form a cluster. Its card is the oldest
ticket's card, redrawn in place in the triage channel ("7 tickets in 12 minutes look
like one problem: ...") with a **Declare incident** button; every later ticket that
looks like them is counted on it instead of getting a card of its own. Pressing the
button declares the incident, led by whoever pressed it, and links them all.

A cluster is of tickets waiting in the queue (open, nobody owns them yet): one an agent
has claimed is being looked at already. Cost per new ticket: nothing while fewer than
``THRESHOLD`` wait (intake knows how many from the queue it counts anyway); otherwise
one indexed read of at most ``RECENT_LIMIT`` recent tickets and the comparison of their
texts in memory, each analysed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.desk.cards import queue_cards
from bot.desk.context import Context
from bot.desk.features.incidents import declare_from
from bot.desk.features.lookup import may_work
from bot.domain.incidents import alike_terms
from bot.domain.knowledge import analyse
from bot.domain.people import Role
from bot.domain.tickets import Ticket, read_row_id
from bot.storage.incident_repository import Recent

WINDOW = timedelta(minutes=15)
THRESHOLD = 5
# The newest tickets compared with each new one: a storm's cluster forms within them.
RECENT_LIMIT = 100


@dataclass(frozen=True)
class Detected:
    """What a new ticket joins: an existing cluster, or a new one anchored on the
    oldest of ``others`` (the alike tickets not in a cluster yet)."""

    cluster_id: int | None
    anchor_id: int
    others: tuple[int, ...] = ()


def detect(text: str, recent: list[Recent], threshold: int = THRESHOLD) -> Detected | None:
    """Whether a new ticket saying ``text`` joins a cluster (pure): it does when it
    looks like a ticket of an open cluster, or when it and the recent tickets it looks
    like make ``threshold``."""
    said = frozenset(analyse(text))
    matching = [r for r in recent if alike_terms(said, frozenset(analyse(r.text)))]
    for ticket in matching:
        if ticket.cluster_id is not None and not ticket.declared:
            return Detected(ticket.cluster_id, 0)
    free = [r for r in matching if r.cluster_id is None]
    if len(free) + 1 < threshold:
        return None
    oldest = min(free, key=lambda r: r.number)
    return Detected(None, oldest.id, tuple(r.id for r in free))


async def look_for_alike(ctx: Context, text: str) -> Detected | None:
    """Read what detection needs for a new ticket saying ``text`` (before its number is
    taken: nothing here writes)."""
    assert ctx.workspace is not None
    recent = await ctx.uow.clusters.recent(ctx.workspace.id, ctx.now - WINDOW, RECENT_LIMIT)
    return detect(text, recent)


async def count_on_cluster(ctx: Context, detected: Detected, ticket: Ticket) -> None:
    """Count the new ``ticket`` on its cluster (starting it if new) and redraw the
    cluster's one card."""
    assert ctx.workspace is not None
    clusters = ctx.uow.clusters
    if detected.cluster_id is None:
        await clusters.start(ctx.workspace.id, detected.anchor_id,
                             [*detected.others, ticket.id], ctx.now)
        anchor_id = detected.anchor_id
    else:
        await clusters.add(detected.cluster_id, [ticket.id])
        anchor_id = await clusters.anchor_of(detected.cluster_id)
    anchor = await ctx.uow.tickets.get(anchor_id)
    await queue_cards(ctx.uow, ctx.now, [(ctx.workspace, anchor)])


async def declare_cluster(ctx: Context) -> None:
    """**Declare incident** on a cluster's card: INC-N, led by whoever pressed it, with
    every ticket of the cluster still being worked linked to it."""
    assert ctx.workspace is not None and ctx.person is not None
    ctx.handled = True
    cluster_id = read_row_id(ctx.args)
    cluster = await ctx.uow.clusters.get(cluster_id) if cluster_id is not None else None
    if cluster is None or cluster.workspace_id != ctx.workspace.id:
        await ctx.answer(ctx.t("incident.cluster_gone"))
        return
    if cluster.incident_id is not None:
        incident = await ctx.uow.incidents.get(cluster.incident_id)
        await ctx.answer(ctx.t("incident.cluster_declared_already", incident=incident.ref))
        return
    for ticket in cluster.tickets:
        # As `/incident declare ... from`: linking a ticket needs work in its team.
        if not await may_work(ctx, ticket):
            await ctx.answer(ctx.t("incident.not_their_team", ref=ticket.ref,
                                   number=ticket.number,
                                   team=ctx.workspace.team(ticket.team_id).name))
            return
    anchor = next(t for t in cluster.tickets if t.id == cluster.anchor_ticket_id)
    incident = await declare_from(ctx, anchor.subject, list(cluster.tickets))
    await ctx.uow.clusters.declared(cluster.id, incident.id)
    await queue_cards(ctx.uow, ctx.now, [(ctx.workspace, anchor)])


def register(router) -> None:
    """Wire the cluster card's button."""
    router.on_button("incident.declare_cluster", declare_cluster, role=Role.AGENT)
