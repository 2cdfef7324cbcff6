"""Sending claimed outbox rows, and what becomes of each one.

Sending and recording are split: ``RowSender.send`` talks to the platform and returns an
``Outcome``; the dispatcher writes the outcomes of a whole batch in one transaction
(fenced by the claim token), together with its next claim. Rows for different channels
go out concurrently; rows for one channel keep their order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field, replace
from datetime import timedelta
from datetime import datetime
from typing import Any, Awaitable, Callable

from sqlalchemy import update

from bot.core import ChatAdapter, Delivery, DeliveryError, OutboundMessage
from bot.metrics import Metrics
from bot.logs import bound
from bot.outbox.card_delivery import (
    RenderCards, prepare_cards, prepare_incident_card, remember_card, remember_incident_card,
    remember_thread_root,
)
from bot.outbox.pacing import Pacer
from bot.storage.tables import OutboxRow
from bot.storage.uow import Database, UnitOfWork

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class ClaimedRow:
    """An outbox row this process holds under a lease."""

    id: int
    workspace_id: int
    ticket_id: int | None
    platform: str
    kind: str
    message: OutboundMessage
    attempts: int
    token: str
    lease_until: datetime | None = None
    # When the row was first due (else written): no attempt of it is older, so a
    # re-attempt's look-up for an earlier try starts here.
    first_due_at: datetime | None = None


# Runs in the transaction that records an outcome, only if the claim still holds.
AfterRecord = Callable[[UnitOfWork], Awaitable[None]]
# Called in the transaction that marks a row dead, to tell someone who can fix it.
OnDead = Callable[[UnitOfWork, ClaimedRow, DeliveryError], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for failed sends: exponential from ``base`` up to ``cap``, with jitter,
    and ``max_attempts`` before a row is declared dead."""

    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=10)
    max_attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        """How long to wait before attempt ``attempts + 1``; full jitter avoids herds."""
        ceiling = min(self.cap, self.base * (2 ** max(attempts - 1, 0)))
        return ceiling * (0.5 + random.random() / 2)


@dataclass
class Outcome:
    """What became of one claimed row: the columns to write and, optionally, more to
    do in the same transaction when the claim still holds."""

    row: ClaimedRow
    values: dict[str, Any]
    then: AfterRecord | None = None
    sent: bool = False
    # What the attempt came to, for helpdesk_deliveries_total: sent, retried,
    # rate_limited or dead; None when nothing was attempted (paced, superseded).
    attempt: str | None = None
    # Already written (a private answer is recorded the moment it is shown): the
    # batch does not write it again.
    recorded: bool = False

    @property
    def shape(self) -> tuple[str, ...]:
        """The written columns; outcomes of one shape are written with one statement."""
        return tuple(sorted(self.values))


@dataclass
class RowSender:
    """Sends claimed rows through the adapters, with pacing, retries and dead letters."""

    db: Database
    adapters: dict[str, ChatAdapter]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    on_dead: OnDead | None = None
    concurrency: int = 8
    pacer: Pacer = field(default_factory=Pacer)
    render_cards: RenderCards | None = None
    metrics: Metrics = field(default_factory=Metrics)

    async def send_all(self, rows: list[ClaimedRow]) -> list[Outcome]:
        """Send ``rows``: one channel's rows in order, different channels at once."""
        cards = await prepare_cards(self.db, [row for row in rows if row.kind == "card"],
                                    self.render_cards)
        if self.concurrency <= 1:
            return self._counted([await self.send(row, cards.get(row.id)) for row in rows])
        lanes: dict[tuple[str, str], list[ClaimedRow]] = {}
        for row in rows:
            lanes.setdefault((row.platform, row.message.direct_to or row.message.channel_id),
                             []).append(row)
        gate = asyncio.Semaphore(self.concurrency)

        async def run_lane(lane: list[ClaimedRow]) -> list[Outcome]:
            async with gate:
                return [await self.send(row, cards.get(row.id)) for row in lane]

        done = await asyncio.gather(*(run_lane(lane) for lane in lanes.values()))
        return self._counted([outcome for lane in done for outcome in lane])

    def _counted(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Count each attempt by what it came to (a re-sent row counts again: it was
        attempted again)."""
        for outcome in outcomes:
            if outcome.attempt is not None:
                self.metrics.delivered(outcome.row.platform, outcome.attempt)
        return outcomes

    async def send(self, row: ClaimedRow,
                   card: tuple[OutboundMessage | None, str] | None = None) -> Outcome:
        """Send one claimed row; nothing is written here (see the dispatcher). A card
        row goes as ``card`` says (from :func:`prepare_cards`: an edit of the posted
        card, a first post, or nothing when a newer card supersedes it). Every log line
        on the way carries the row's ids."""
        with bound(workspace=row.workspace_id, ticket=row.ticket_id, outbox=row.id):
            return await self._send(row, card)

    async def _send(self, row: ClaimedRow,
                    card: tuple[OutboundMessage | None, str] | None) -> Outcome:
        adapter = self.adapters[row.platform]
        message: OutboundMessage | None = row.message
        key = f"hd-{row.id}"
        if row.kind == "card":
            message, key = card or (await prepare_cards(self.db, [row], self.render_cards))[row.id]
            if message is None:
                return Outcome(row, {"status": "superseded"})
        elif row.kind == "incident_card":
            message, key = await prepare_incident_card(self.db, row, self.render_cards)
            if message is None:
                return Outcome(row, {"status": "superseded"})
        # Only new posts count against a channel's posting rate: private answers, card
        # edits and home views use other methods, with limits of their own (a 429 still
        # re-schedules them), and must not wait behind the channel's posts.
        paced = not (message.ephemeral_to or message.edit_of or message.audience == "home")
        channel = message.direct_to or message.channel_id
        send_at, ready = self.pacer.book(getattr(adapter, "pacing", None) if paced else None,
                                         row.platform, row.workspace_id, channel,
                                         self.db.clock.now())
        if send_at is not None:
            # Only the workspace's budget holds it back, briefly: its slot is booked.
            await asyncio.sleep(max(0.0, (send_at - self.db.clock.now()).total_seconds()))
        if ready is not None:
            # Too soon for this channel: hand the row back for later, attempt unspent.
            return Outcome(row, {"status": "pending", "due_at": ready,
                                 "attempts": row.attempts - 1})
        try:
            since = (self.db.clock.now() - row.first_due_at
                     if row.first_due_at is not None else None)
            delivery = await adapter.send(message, idempotency_key=key, attempt=row.attempts,
                                          since=since)
        except DeliveryError as error:
            return self.failed(row, error)
        except Exception as error:  # an adapter bug must not stop the dispatcher
            logger.exception("adapter %s raised while sending outbox row %d", row.platform, row.id)
            return self.failed(row, DeliveryError(type(error).__name__))
        logger.debug("sent outbox row %d (%s) on %s", row.id, row.kind, row.platform)
        if message.ephemeral_to:
            return await self._record_private(row, delivery)
        then: AfterRecord | None = None
        if row.kind == "card" and not message.edit_of:
            then = lambda uow: remember_card(uow, row, delivery)  # noqa: E731
        elif row.kind == "incident_card" and not message.edit_of:
            then = lambda uow: remember_incident_card(uow, row, delivery)  # noqa: E731
        elif row.kind == "thread_root":
            then = lambda uow: remember_thread_root(uow, row, delivery)  # noqa: E731
        return Outcome(row, {"status": "sent", "result_message_id": delivery.message_id,
                             "sent_at": self.db.clock.now()}, then, sent=True, attempt="sent")

    async def _record_private(self, row: ClaimedRow, delivery: Delivery) -> Outcome:
        """A private answer is written as sent at once, in its own small transaction,
        not with the batch: it goes by ``response_url``, ``chat.postEphemeral`` or a
        Discord follow-up, none of which takes an idempotency key or can be looked up,
        so a re-attempt after lost outcomes (the process died, the batch's transaction
        failed) would show it twice. What is left is the moment between the platform's
        answer and this commit."""
        outcome = Outcome(row, {"status": "sent", "result_message_id": delivery.message_id,
                                "sent_at": self.db.clock.now()}, sent=True, attempt="sent")
        try:
            async with self.db.unit_of_work() as uow:
                result = await uow.session.execute(
                    update(OutboxRow).where(OutboxRow.id == row.id,
                                            OutboxRow.claim_token == row.token)
                    .values(claim_token=None, lease_until=None, **outcome.values))
            if not result.rowcount:
                logger.warning("outbox row %d was re-claimed by another worker while it was "
                               "being sent", row.id)
            outcome.recorded = True
        except Exception:  # the batch records it instead
            logger.exception("could not record private answer %d at once", row.id)
        return outcome

    def failed(self, row: ClaimedRow, error: DeliveryError) -> Outcome:
        """The outcome of a failed send: re-scheduled, retried later, or dead. When some
        parts of a long message went out, the row records them, so the retry sends only
        the rest (and a dead row says what was delivered)."""
        now = self.db.clock.now()
        reason = str(error)[:500]
        progress: dict[str, Any] = {}
        if error.parts_sent and error.parts_sent != row.message.parts_sent \
                and row.kind not in ("card", "incident_card"):  # drawn afresh: one message
            progress["payload_json"] = json.dumps(
                replace(row.message, parts_sent=tuple(error.parts_sent)).to_dict())
        if error.retry_after is not None:
            # A rate limit is not the row's fault: re-schedule without spending an attempt.
            return Outcome(row, {"status": "pending", "attempts": row.attempts - 1,
                                 "due_at": now + timedelta(seconds=error.retry_after),
                                 "last_error": reason, **progress}, attempt="rate_limited")
        if error.permanent or row.attempts >= self.retry.max_attempts:
            logger.error("outbox row %d is dead after %d attempts: %s", row.id, row.attempts, error)
            alert = None
            if self.on_dead is not None and row.kind != "alert":
                on_dead = self.on_dead
                alert = lambda uow: on_dead(uow, row, error)  # noqa: E731
            return Outcome(row, {"status": "dead", "last_error": reason, **progress}, alert,
                           attempt="dead")
        return Outcome(row, {"status": "pending", "due_at": now + self.retry.delay(row.attempts),
                             "last_error": reason, **progress}, attempt="retried")
