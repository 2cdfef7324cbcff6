"""What the desk does when a promise falls due and nobody kept it.

Called by the ledger sweeper inside the same transaction that marks the promise
missed, so the honest update, the owner's reminder, any escalation and the new
promise are all written together, exactly once. A sweeper covering many promises at
once collects the reminders and escalations and sends each person one message
(bot/ledger/notices.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.desk.policy import Desk, DeskPolicy
from bot.domain.people import Person, Role, Workspace
from bot.domain.priority import Priority
from bot.domain.promises import (
    WAITS_ON_REQUESTER, Promise, PromiseKind, is_late, next_promise_due, should_escalate,
)
from bot.domain.tickets import Ticket, TicketAction, TicketStatus, transition
from bot.domain.timefmt import format_when
from bot.desk.cards import queue_card_in
from bot.ledger.notices import Notice, notice
from bot.desk.notify import confirmation_buttons, to_agents, to_requester
from bot.storage.tables import OutboxRow
from bot.storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

_WAIT_STATUS = {PromiseKind.AWAITING_REQUESTER: TicketStatus.WAITING_REQUESTER,
                PromiseKind.AWAITING_CONFIRMATION: TicketStatus.RESOLVED}


class LapseCover:
    """Everything needed to cover one lapsed promise, loaded once."""

    def __init__(self, uow: UnitOfWork, desk: Desk, promise: Promise, now: datetime, *,
                 card: bool = True, notices: list[Notice] | None = None) -> None:
        self.uow, self.desk, self.promise, self.now = uow, desk, promise, now
        # The sweeper covering a batch queues the cards itself, after one flush.
        self.card = card
        # Given a list, reminders and escalations go there for the caller to send, one
        # message per person for the whole batch; without one they are sent at once.
        self.notices = notices

    async def run(self) -> OutboxRow | None:
        """Cover the promise; returns the requester-facing outbox row, if any. Rows are
        queued without flushing: they get their ids at the unit of work's next flush."""
        uow, promise = self.uow, self.promise
        self.ticket: Ticket = await uow.tickets.get(promise.ticket_id)
        self.workspace: Workspace = await uow.workspaces.get(self.ticket.workspace_id)
        self.policy: DeskPolicy = self.desk.policy(self.workspace)
        self.requester: Person = await uow.people.get(self.ticket.requester_id)
        owner_id = promise.owner_id or self.ticket.owner_id
        self.owner: Person | None = await uow.people.get(owner_id) if owner_id else None
        if promise.kind in WAITS_ON_REQUESTER:
            if self.ticket.status is not _WAIT_STATUS[promise.kind]:
                return None  # the wait ended some other way; nothing to say
            cover_id = await self._cover_wait()
        elif not self.ticket.status.is_active:
            return None  # a resolved or closed ticket owes nothing more
        else:
            cover_id = await self._cover_desk_promise()
        # The card shows the next promise and the status: both may have changed.
        if self.card:
            await queue_card_in(uow, self.workspace, self.policy, self.now, self.ticket)
        return cover_id

    def t(self, key: str, **fields) -> str:
        """Render a template in the workspace's wording."""
        return self.policy.templates.render(key, **fields)

    def when(self, moment: datetime, person: Person | None = None) -> str:
        """A time in ``person``'s zone (the requester's by default)."""
        tz = (person or self.requester).tz or self.policy.calendar.timezone
        return format_when(moment, self.now, tz)

    async def post(self, message) -> OutboxRow | None:
        """Queue ``message`` (None is skipped) and return its outbox row."""
        if message is None:
            return None
        return self.uow.outbox.queue(self.workspace.id, self.workspace.platform, message,
                                     self.now, ticket_id=self.ticket.id)

    async def tell(self, person: Person, key: str, **fields) -> None:
        """Remind or alert a member of staff (``lapse.<key>``) about this ticket."""
        item = notice(person, self.workspace, self.policy, self.ticket, key, **fields)
        if self.notices is not None:
            self.notices.append(item)
        else:
            await self.post(item.alone)

    async def _cover_desk_promise(self) -> OutboxRow | None:
        promise, ticket, policy = self.promise, self.ticket, self.policy
        interval = policy.sla.target(ticket.priority).update_interval
        next_due = next_promise_due(promise, self.now, interval, policy.calendar.add_business_time)
        misses = promise.misses_in_row + 1
        late = is_late(promise.due_at, self.now)
        owner_name = self.owner.name if self.owner else self.t("lapse_words.the_desk")
        # A promise the bot itself set after an earlier miss is not the owner's own word.
        kind = "repeat" if promise.misses_in_row else promise.kind.value
        key = f"lapse.{kind}" + ("_late" if late else "")
        cover_id = await self.post(to_requester(ticket, self.t(
            key, ref=ticket.ref, owner=owner_name, due=self.when(promise.due_at),
            next=self.when(next_due))))
        what = self.t(f"what.{promise.kind.value}")
        if self.owner is not None:
            await self.tell(self.owner, "owner_reminder", ref=ticket.ref,
                            requester=self.requester.name, what=what,
                            due=self.when(promise.due_at, self.owner),
                            next=self.when(next_due, self.owner))
        else:
            await self.post(to_agents(ticket, self.t(
                "lapse.triage_unowned", ref=ticket.ref, requester=self.requester.name,
                due=self.when(promise.due_at), next=self.when(next_due))))
        if should_escalate(misses, ticket.priority is Priority.P1):
            await self._escalate(what, misses, owner_name, next_due)
        # A missed resolution target is not promised again; the update cadence goes on.
        next_kind = PromiseKind.STATUS_UPDATE if promise.kind is PromiseKind.RESOLUTION else promise.kind
        if next_kind is PromiseKind.STATUS_UPDATE:
            await self.uow.promises.cancel(ticket.id, self.now, (PromiseKind.STATUS_UPDATE,))
        warn_at = self.now + (next_due - self.now) * policy.sla.warn_at
        self.uow.promises.queue(
            self.workspace.id, ticket.id, next_kind, next_due, self.now,
            owner_id=promise.owner_id, text=promise.text, misses_in_row=misses,
            parent_id=promise.id, warn_at=warn_at)
        await self.uow.tickets.add_event(ticket.id, "bot", self.now, body=f"covered {what}",
                                         promise_id=promise.id, next_due=next_due.isoformat())
        return cover_id

    async def _escalate(self, what: str, misses: int, owner_name: str, next_due: datetime) -> None:
        ticket = self.ticket
        leads = await self.uow.people.with_role(self.workspace.id, Role.LEAD)
        for lead in leads:
            await self.tell(lead, "escalation", ref=ticket.ref, requester=self.requester.name,
                            what=what, misses=misses, priority=ticket.priority.value,
                            owner=owner_name, due=self.when(self.promise.due_at, lead),
                            next=self.when(next_due, lead))
        if not leads:
            logger.warning("ticket %s needs escalating but workspace %d has no leads",
                           ticket.ref, self.workspace.id)
        await self.uow.tickets.add_event(ticket.id, "escalated", self.now,
                                         body=f"{what} missed {misses} time(s)", automatic=True)

    async def _cover_wait(self) -> OutboxRow | None:
        promise, ticket, policy = self.promise, self.ticket, self.policy
        waiting = promise.kind is PromiseKind.AWAITING_REQUESTER
        plan = policy.waiting if waiting else policy.confirmation
        if promise.step == 0:
            close_at = policy.calendar.add_business_time(self.now, plan.close_after)
            if waiting:
                message = to_requester(ticket, self.t("lapse.nudge", ref=ticket.ref,
                                                      close=self.when(close_at)))
            else:
                message = to_requester(ticket, self.t(
                    "lapse.confirm_reminder", ref=ticket.ref, close=self.when(close_at)),
                    confirmation_buttons(ticket, self.t("buttons.solved_yes"),
                                         self.t("buttons.solved_no")))
            cover_id = await self.post(message)
            self.uow.promises.queue(self.workspace.id, ticket.id, promise.kind, close_at,
                                    self.now, owner_id=promise.owner_id, step=1,
                                    parent_id=promise.id)
            return cover_id
        status = transition(ticket.status, TicketAction.AUTO_CLOSE,
                            has_owner=ticket.owner_id is not None, number=ticket.number)
        await self.uow.tickets.update(ticket.id, status=status.value, closed_at=self.now,
                                      updated_at=self.now)
        await self.uow.tickets.add_event(ticket.id, "status", self.now, body=status.value,
                                         automatic=True)
        await self.uow.promises.cancel(ticket.id, self.now)
        key = "lapse.closed_no_reply" if waiting else "lapse.closed_unconfirmed"
        return await self.post(to_requester(ticket, self.t(key, ref=ticket.ref)))
