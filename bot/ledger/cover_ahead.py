"""Working out covers ahead of their due time (for bot/ledger/prepared.py): each in a
read-only unit of work, as of its own due time, kept as driver-ready values; and the
checks at commit time of whether what was worked out still holds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import event, select

from bot.desk.policy import Desk
from bot.domain.tickets import Ticket
from bot.ledger.lapses import LapseCover
from bot.storage.batch import Bound, bind_row
from bot.storage.outbox_repository import BoundPost
from bot.storage.promise_repository import promise_from_row
from bot.storage.tables import OutboxRow, PromiseRow, TicketRow
from bot.storage.uow import UnitOfWork

# A prepared cover committed later than this after its due time is worked out afresh.
FRESH_FOR = timedelta(seconds=30)


class Claimed(NamedTuple):
    """A promise this worker holds under a lease."""

    id: int
    token: str
    ticket_id: int


class Prepared(NamedTuple):
    """A claimed promise and, when it could be worked out ahead, its cover."""

    id: int
    token: str
    ticket_id: int
    due_at: datetime
    rows: list[Bound] | None = None  # new promises and timeline rows; None: cover live
    update: BoundPost | None = None  # the requester-facing update, if the cover has one
    posts: tuple[BoundPost, ...] = ()  # any other outbox rows (a note to the agents)
    card: tuple | None = None  # (workspace, policy, ticket), for the triage card
    ticket_state: tuple | None = None  # (status, owner, priority) the cover assumed
    notices: list | None = None  # reminders and escalations, sent per person at commit


class _WouldWrite(Exception):
    """A cover tried to change a row: it cannot be prepared ahead."""


def _refuse_writes(state) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        raise _WouldWrite


def ticket_state(ticket: Ticket) -> tuple:
    """What a prepared cover depends on besides the promise itself."""
    return (ticket.status.value, ticket.owner_id, ticket.priority.value)


async def work_out_covers(uow: UnitOfWork, desk: Desk, rows: list[PromiseRow], token: str,
                          busy_tickets: set[int]) -> list[Prepared]:
    """Work out the covers of claimed ``rows`` in a read-only unit of work, each as of its
    own due time. ``busy_tickets`` (tickets with a cover already prepared) grows."""
    session = uow.session
    event.listen(session.sync_session, "do_orm_execute", _refuse_writes)
    uow.outbox.messages = {}
    prepared = []
    try:
        with session.no_autoflush:
            for row in rows:
                promise = promise_from_row(row)
                entry = Prepared(row.id, token, row.ticket_id, row.due_at)
                if row.ticket_id not in busy_tickets:
                    entry = await _prepare_one(uow, desk, promise, entry)
                    if entry.rows is not None:
                        busy_tickets.add(row.ticket_id)
                prepared.append(entry)
    finally:
        event.remove(session.sync_session, "do_orm_execute", _refuse_writes)
    return prepared


async def _prepare_one(uow: UnitOfWork, desk: Desk, promise, entry: Prepared) -> Prepared:
    session = uow.session
    notices: list = []
    cover = LapseCover(uow, desk, promise, promise.due_at, card=False, notices=notices)
    try:
        cover_row = await cover.run()
        pure = not session.dirty
    except _WouldWrite:
        cover_row, pure = None, False
    new_rows = list(session.new)
    for row in new_rows:
        session.expunge(row)
    if not pure:
        for changed in list(session.dirty):
            session.expunge(changed)  # nothing it changed may leak into the next cover
        return entry
    dialect = session.bind.dialect
    posts = {id(row): uow.outbox.bind(dialect, row, uow.outbox.messages.pop(id(row)))
             for row in new_rows if isinstance(row, OutboxRow)}
    return entry._replace(
        rows=[bind_row(dialect, row) for row in new_rows if not isinstance(row, OutboxRow)],
        update=posts.pop(id(cover_row), None),
        posts=tuple(posts.values()), card=(cover.workspace, cover.policy, cover.ticket),
        ticket_state=ticket_state(cover.ticket), notices=notices)


async def changed_tickets(uow: UnitOfWork, entries: list[Prepared]) -> set[int]:
    """Tickets whose status, owner or priority differ from what their cover assumed."""
    found = {ticket_id: (status, owner_id, priority) for ticket_id, status, owner_id, priority in (
        await uow.session.execute(select(TicketRow.id, TicketRow.status, TicketRow.owner_id,
                                         TicketRow.priority)
                                  .where(TicketRow.id.in_({e.ticket_id for e in entries})))
    ).all()}
    return {e.ticket_id for e in entries if found.get(e.ticket_id) != e.ticket_state}


def owner_of(entry: Prepared) -> int:
    """Whose reminder the cover carries (0: none), to keep an owner's covers together."""
    return entry.notices[0].person.id if entry.notices else 0


def is_fresh(entry: Prepared, now: datetime) -> bool:
    """Whether the prepared wording still holds at ``now``."""
    return entry.rows is not None and now - entry.due_at <= FRESH_FOR
