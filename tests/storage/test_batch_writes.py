"""One way to write (bot/storage/batch.py, the repositories): ids taken first, one
statement per table and shape however many rows, every row readable at once by a
later read in the same unit of work, and nothing left behind by a rollback."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from bot.clock import OffsetClock
from bot.core import OutboundMessage
from bot.domain.promises import PromiseKind
from bot.storage.batch import insert_many
from bot.storage.outbox_repository import NewPost
from bot.storage.promise_repository import promise_row
from bot.storage.ticket_repository import event_row
from bot.storage.tables import OutboxRow, PromiseRow, TicketEventRow
from bot.storage.uow import Database
from tests.support.harness import reset_schema

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def db(db_url):
    """A fresh schema on each database."""
    database = Database.from_url(db_url, OffsetClock())
    await reset_schema(database)
    yield database
    await database.dispose()


async def a_ticket(db):
    async with db.unit_of_work() as uow:
        ws = await uow.workspaces.ensure("test", "T1", "T", NOW)
        ann = await uow.people.ensure(ws.id, "ann", "Ann", NOW)
        ticket = await uow.tickets.add(
            workspace_id=ws.id, number=1, requester_id=ann.id, status="in_progress",
            priority="P3", subject="VPN", first_message="VPN", in_a_hurry=False,
            created_at=NOW, updated_at=NOW)
    return ws, ticket


def counting_inserts(db) -> list[str]:
    inserts: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    return inserts


async def test_many_rows_take_ids_first_and_go_in_one_statement_per_shape(db):
    ws, _ = await a_ticket(db)
    async with db.unit_of_work() as uow:
        already = await uow.outbox.add(ws.id, "test", _message("first"), NOW)
    inserts = counting_inserts(db)
    async with db.unit_of_work() as uow:
        posts = [NewPost(ws.id, "test", _message(f"plain {i}")) for i in range(5)]
        posts.append(NewPost(ws.id, "test", _message("a card"), kind="card"))
        ids = await uow.outbox.add_many(posts, NOW)
    assert len(set(ids)) == 6 and min(ids) > already and ids == sorted(ids)
    assert len([s for s in inserts if "outbox" in s]) == 1  # not one per row
    async with db.reading() as uow:
        stored = {row.id: row for row in (await uow.session.execute(select(OutboxRow))).scalars()}
    assert '"text": "plain 0"' in stored[ids[0]].payload_json
    assert (stored[ids[-1]].kind, stored[ids[0]].kind) == ("card", "post")


async def test_a_later_read_in_the_same_unit_of_work_sees_every_write(db):
    """Whichever method wrote a row, a later read in the same unit of work sees it:
    the ledger builds each card after its covers, from what they wrote."""
    ws, ticket = await a_ticket(db)
    due = NOW.replace(hour=10)
    async with db.unit_of_work() as uow:
        await uow.promises.make(ws.id, ticket.id, PromiseKind.STATUS_UPDATE, due, NOW)
        assert await uow.promises.soonest_open({ticket.id}) == {
            ticket.id: (PromiseKind.STATUS_UPDATE, due)}
        await uow.promises.make_many([promise_row(ws.id, ticket.id, PromiseKind.FOLLOW_UP,
                                                  due.replace(hour=9, minute=30), NOW)])
        assert await uow.promises.soonest_open({ticket.id}) == {
            ticket.id: (PromiseKind.FOLLOW_UP, due.replace(hour=9, minute=30))}
        await uow.tickets.add_event(ticket.id, "note", NOW, body="one")
        await uow.tickets.add_events([event_row(ticket.id, "note", NOW, body="two")])
        assert [e.body for e in await uow.tickets.timeline(ticket.id)] == ["one", "two"]
        await uow.promises.cancel_many({ticket.id}, NOW, (PromiseKind.FOLLOW_UP,))
        assert await uow.promises.soonest_open({ticket.id}) == {
            ticket.id: (PromiseKind.STATUS_UPDATE, due)}


async def test_a_rolled_back_batch_leaves_nothing(db):
    ws, ticket = await a_ticket(db)
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as uow:
            await uow.outbox.add_many([NewPost(ws.id, "test", _message("gone"))] * 3, NOW)
            await insert_many(uow.session, TicketEventRow.__table__,
                              [event_row(ticket.id, "note", NOW)])
            raise RuntimeError("the batch failed after writing")
    async with db.reading() as uow:
        assert (await uow.session.execute(select(OutboxRow.id))).scalars().all() == []
        assert await uow.tickets.timeline(ticket.id) == []


def _message(text: str) -> OutboundMessage:
    return OutboundMessage(channel_id="C1", text=text)


async def test_paused_promises_resume_in_one_statement_each_at_its_own_time(db):
    # Resuming the desk's clock after a wait on the requester: every paused promise of
    # the ticket is due again at its own (stated, whole-minute) time, with its own
    # heads-up or none, in one UPDATE (not one per promise), on SQLite and PostgreSQL.
    ws, ticket = await a_ticket(db)
    kinds = (PromiseKind.FIRST_RESPONSE, PromiseKind.RESOLUTION, PromiseKind.FOLLOW_UP)
    async with db.unit_of_work() as uow:
        ids = [(await uow.promises.make(ws.id, ticket.id, kind, NOW + timedelta(hours=1), NOW)).id
               for kind in kinds]
        other = (await uow.promises.make(ws.id, ticket.id, PromiseKind.STATUS_UPDATE,
                                         NOW + timedelta(hours=1), NOW)).id
        await uow.promises.pause({i: timedelta(minutes=30) for i in ids})
    later = NOW + timedelta(days=1)
    new = {ids[0]: (later + timedelta(minutes=10, seconds=20), later + timedelta(minutes=5)),
           ids[1]: (later + timedelta(hours=3), None),
           ids[2]: (later + timedelta(minutes=45), later + timedelta(minutes=30))}
    updates: list[tuple[str, bool]] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append((statement, executemany))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    async with db.unit_of_work() as uow:
        await uow.promises.resume(new)
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(updates) == 1 and updates[0][1] is False, updates

    async with db.unit_of_work() as uow:
        rows = {row.id: row for row in (await uow.session.execute(select(PromiseRow))).scalars()}
    assert [(rows[i].status, rows[i].due_at, rows[i].warn_at, rows[i].paused_remaining)
            for i in ids] == [
        ("pending", later + timedelta(minutes=11), later + timedelta(minutes=5), None),
        ("pending", later + timedelta(hours=3), None, None),
        ("pending", later + timedelta(minutes=45), later + timedelta(minutes=30), None)]
    # A promise that was not paused is left as it was.
    assert (rows[other].status, rows[other].due_at) == ("pending", NOW + timedelta(hours=1))
