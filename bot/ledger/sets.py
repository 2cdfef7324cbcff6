"""The ledger's reads and writes, each over a whole batch of promises at once.

:func:`load_inputs` gathers what covering a batch depends on with a few IN-queries
(tickets, workspaces, people, leads), however many promises there are; the pure
planner (bot/ledger/plans.py) turns each into a plan; :func:`apply_plans` writes all
the plans of a batch with one statement per table and kind of change. Everything is
written through the repositories' one write API, so any read later in the same unit
of work (the cards, built last) sees what the covers wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from bot.desk.cards import queue_cards
from bot.desk.policy import Desk, Policies
from bot.domain.people import Role, Workspace
from bot.domain.priority import Priority
from bot.domain.promises import Promise, PromiseKind, widens
from bot.desk.duty import escalation_leads, wider_circle
from bot.ledger.notices import gather
from bot.ledger.plans import CoverInputs, CoverPlan
from bot.ledger.warnings import WarningPlan
from bot.storage.outbox_repository import NewPost
from bot.storage.promise_repository import promise_row
from bot.storage.ticket_repository import event_row
from bot.storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


async def load_inputs(uow: UnitOfWork, desk: Desk, promises: list[Promise],
                      now_of: Callable[[Promise], datetime]) -> list[CoverInputs]:
    """What covering each of ``promises`` depends on, as it stands in this unit of work;
    ``now_of`` gives the moment each is covered at (its due time, when prepared ahead)."""
    tickets = await uow.tickets.many({p.ticket_id for p in promises})
    workspaces = await uow.workspaces.many({t.workspace_id for t in tickets.values()})
    people = await uow.people.many(
        {t.requester_id for t in tickets.values()}
        | {p.owner_id or tickets[p.ticket_id].owner_id for p in promises} - {None})
    # Escalations reach each ticket's team: its lead on duty, else its leads.
    leads: dict[tuple[int, int | None], list] = {}
    for promise in promises:
        ticket = tickets[promise.ticket_id]
        workspace = workspaces[ticket.workspace_id]
        team = workspace.team(ticket.team_id)
        key = (workspace.id, team.id if team is not None else None)
        if key not in leads:
            leads[key] = ((await escalation_leads(uow, desk, workspace, team,
                                                  now_of(promise)))[0]
                          if team is not None
                          else await uow.people.with_role(workspace.id, Role.LEAD))
    # The one widening escalation of a run of misses also reaches the wider circle:
    # loaded only for a miss that widens.
    wider: dict[tuple[int, int | None], list] = {}
    for promise in promises:
        ticket = tickets[promise.ticket_id]
        if not widens(promise.misses_in_row + 1, ticket.priority is Priority.P1):
            continue
        workspace = workspaces[ticket.workspace_id]
        team = workspace.team(ticket.team_id)
        key = (workspace.id, team.id if team is not None else None)
        if key not in wider and leads[key]:
            wider[key] = await wider_circle(uow, desk, workspace, team, leads[key])
    # The admins are told when an escalation finds no lead: asked for only then.
    admins = await uow.people.admins_in({w for (w, _), found in leads.items() if not found},
                                        desk.admins)
    # A lapsed resolution target points to the update already promised, if any.
    updates = await uow.promises.soonest_updates(
        {p.ticket_id for p in promises if p.kind is PromiseKind.RESOLUTION})
    policies = Policies(desk)
    inputs = []
    for promise in promises:
        ticket = tickets[promise.ticket_id]
        workspace = workspaces[ticket.workspace_id]
        owner_id = promise.owner_id or ticket.owner_id
        team = workspace.team(ticket.team_id)
        key = (workspace.id, team.id if team is not None else None)
        inputs.append(CoverInputs(
            promise, ticket, workspace, policies.of(workspace, ticket.team_id).for_ticket(ticket),
            people[ticket.requester_id], people[owner_id] if owner_id else None,
            tuple(leads[key]), now_of(promise), updates.get(ticket.id),
            tuple(admins.get(workspace.id, ())),
            # The owner is reminded already: the wider circle is everyone else.
            tuple(p for p in wider.get(key, ()) if p.id != owner_id)))
    return inputs


@dataclass(frozen=True)
class PlanRows:
    """One cover's plan as the rows it writes, worked out before the transaction that
    writes them: a cover prepared ahead does this at preparing time, so that at its due
    time only the writing is left. Times in the rows are the plan's own ``now``."""

    plan: CoverPlan
    promise: dict[str, Any] | None
    events: list[dict[str, Any]]
    update: NewPost | None
    posts: list[NewPost]
    after: list[NewPost] = field(default_factory=list)


def rows_of(plan: CoverPlan, now: datetime) -> PlanRows:
    """The rows ``plan`` writes at ``now`` (no I/O)."""
    p = plan.next_promise
    promise = None if p is None else promise_row(
        plan.workspace.id, plan.ticket.id, p.kind, p.due_at, now, owner_id=p.owner_id,
        text=p.text, warn_at=p.warn_at, misses_in_row=p.misses_in_row,
        parent_id=plan.promise.id, step=p.step)
    return PlanRows(
        plan, promise,
        [event_row(plan.ticket.id, line.kind, now, body=line.body, **line.data)
         for line in plan.timeline],
        _post(plan, plan.update) if plan.update is not None else None,
        [_post(plan, message) for message in plan.posts],
        [_post(plan, message) for message in plan.after])


async def apply_plans(uow: UnitOfWork, plans: list[CoverPlan], now: datetime) -> None:
    """Write every plan of a batch in this unit of work (see :func:`write_rows`)."""
    await write_rows(uow, [rows_of(plan, now) for plan in plans], now)


async def write_rows(uow: UnitOfWork, batch: list[PlanRows], now: datetime,
                     linked: dict[int, int] | None = None) -> None:
    """Write a batch of plans' rows in this unit of work, one statement per table and
    kind of change.

    Order matters twice. Cancellations come before the next promises, so a cover that
    cancels a ticket's status updates does not cancel the one it makes. And the outbox
    rows go requesters' updates first, then notes to the agents, then the staff's
    gathered notices, then the escalations' notes in the triage threads (a lead hears
    first, privately, then the team): the dispatcher is handed them in that order, so
    in a burst what requesters wait for goes first. The cards follow, drawn when sent. ``linked``: the
    outbox ids the fence already linked the promises to (promise id: id), to give their
    updates; the other updates are linked here.
    """
    plans = [rows.plan for rows in batch]
    for kinds, ticket_ids in _grouped(plans, lambda plan: plan.cancel):
        await uow.promises.cancel_many(ticket_ids, now, kinds)
    for plan in plans:
        if plan.status is not None:
            await uow.tickets.update(plan.ticket.id, status=plan.status.value, closed_at=now,
                                     updated_at=now)
    await uow.promises.make_many([rows.promise for rows in batch if rows.promise is not None])
    await uow.tickets.add_events([event for rows in batch for event in rows.events])
    linked = linked or {}
    # The updates with ids the fence already linked go first, so they take those ids.
    with_update = sorted((rows for rows in batch if rows.update is not None),
                         key=lambda rows: rows.plan.promise.id not in linked)
    given = [linked[rows.plan.promise.id] for rows in with_update
             if rows.plan.promise.id in linked]
    ids = await uow.outbox.add_many(
        [rows.update for rows in with_update]
        + [post for rows in batch for post in rows.posts]
        + gather([item for plan in plans for item in plan.notices])
        + [post for rows in batch for post in rows.after], now, given)
    await uow.promises.link_covers({rows.plan.promise.id: row_id
                                    for rows, row_id in zip(with_update, ids)
                                    if rows.plan.promise.id not in linked})
    for plan in plans:
        if plan.no_leads:
            logger.warning("ticket %s needs escalating but its team in workspace %d has "
                           "no lead (its admins and the owner are told)",
                           plan.ticket.ref, plan.workspace.id)
    # The cards are drawn when sent, from the tickets as the covers left them.
    await queue_cards(uow, now, [(plan.workspace, plan.ticket)
                                 for plan in plans if not _empty(plan)])


async def apply_warnings(uow: UnitOfWork, plans: list[tuple[WarningPlan, Workspace, int]],
                         now: datetime) -> None:
    """Write the heads-ups of one sweep: the triage threads' notes, and one message per
    owner for all their notices (``plans`` holds each plan's workspace and ticket id)."""
    posts = [NewPost(workspace.id, workspace.platform, plan.post, ticket_id)
             for plan, workspace, ticket_id in plans if plan.post is not None]
    posts += gather([plan.notice for plan, _, _ in plans if plan.notice is not None])
    await uow.outbox.add_many(posts, now)


def _post(plan: CoverPlan, message) -> NewPost:
    return NewPost(plan.workspace.id, plan.workspace.platform, message, plan.ticket.id)


def _empty(plan: CoverPlan) -> bool:
    return plan.update is None and plan.next_promise is None and plan.status is None


def _grouped(plans: Iterable[CoverPlan], key) -> list[tuple[tuple[PromiseKind, ...], set[int]]]:
    """The plans' tickets grouped by ``key`` (None: left out)."""
    groups: dict[tuple[PromiseKind, ...], set[int]] = {}
    for plan in plans:
        kinds = key(plan)
        if kinds is not None:
            groups.setdefault(kinds, set()).add(plan.ticket.id)
    return list(groups.items())
