"""Many new rows written at once (bot/storage/batch.py): ids taken first, one plain
INSERT per table and shape, the rows readable afterwards, and later ORM inserts never
colliding with the ids taken."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select

from bot.core import OutboundMessage
from bot.clock import OffsetClock
from bot.storage.batch import bind_row, write_bound, write_new_rows
from bot.storage.tables import OutboxRow, TicketEventRow
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


def outbox_row(workspace_id: int, text: str, **extra) -> OutboxRow:
    return OutboxRow(workspace_id=workspace_id, platform="test", payload_json=f'{{"t": "{text}"}}',
                     status="pending", due_at=NOW, attempts=0, created_at=NOW, **extra)


async def test_new_rows_get_ids_and_are_written_with_one_insert_per_shape(db):
    inserts: list[tuple[str, bool]] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append((statement, executemany))

    async with db.unit_of_work() as uow:
        ws = await uow.workspaces.ensure("test", "T1", "T", NOW)
        already = await uow.outbox.add(ws.id, "test", _message("first"), NOW)
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    async with db.unit_of_work() as uow:
        rows = [outbox_row(ws.id, f"plain {i}") for i in range(5)]
        # Another shape: a row written already claimed, and one leaving `kind` to
        # the column's default.
        rows.append(outbox_row(ws.id, "claimed", kind="edit", claim_token="tok"))
        uow.session.add_all(rows)
        assert await write_new_rows(uow.session, OutboxRow) == 6
        assert not uow.session.new, "written rows must leave the session"
        ids = [row.id for row in rows]
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(set(ids)) == 6 and min(ids) > already
    assert len(inserts) == 2  # one per shape, not one per row

    async with db.unit_of_work() as uow:
        later = await uow.outbox.add(ws.id, "test", _message("later"), NOW)  # the ORM's way
        stored = {row.id: row for row in (await uow.session.execute(
            select(OutboxRow).where(OutboxRow.workspace_id == ws.id))).scalars()}
    assert later not in ids and later > already
    assert set(stored) == {already, later, *ids}
    assert stored[ids[0]].payload_json == '{"t": "plain 0"}'
    assert stored[ids[0]].kind == "post"  # the column default applied
    assert (stored[ids[-1]].kind, stored[ids[-1]].claim_token) == ("edit", "tok")


async def test_a_rolled_back_batch_leaves_nothing(db):
    async with db.unit_of_work() as uow:
        ws = await uow.workspaces.ensure("test", "T1", "T", NOW)
    try:
        async with db.unit_of_work() as uow:
            uow.session.add_all([outbox_row(ws.id, "gone") for _ in range(3)])
            await write_new_rows(uow.session, OutboxRow)
            raise RuntimeError("the batch failed after writing")
    except RuntimeError:
        pass
    async with db.unit_of_work() as uow:
        left = (await uow.session.execute(select(OutboxRow.id))).scalars().all()
    assert left == []


async def test_rows_bound_ahead_are_written_as_the_orm_would_write_them(db):
    async with db.unit_of_work() as uow:
        ws = await uow.workspaces.ensure("test", "T1", "T", NOW)
        ann = await uow.people.ensure(ws.id, "ann", "Ann", NOW)
        ticket = await uow.tickets.add(
            workspace_id=ws.id, number=1, requester_id=ann.id, status="open",
            priority="P3", subject="VPN", first_message="VPN", in_a_hurry=False,
            created_at=NOW, updated_at=NOW)
        by_orm = await uow.outbox.add(ws.id, "test", _message("by the ORM"), NOW)
    dialect = db.engine.dialect
    # Bound long before they are written, as a cover prepared ahead is.
    lease = NOW.replace(minute=5)
    posts = [bind_row(dialect, outbox_row(ws.id, f"bound {i}"),
                      later=("status", "claim_token", "lease_until")) for i in range(3)]
    event_row = bind_row(dialect, TicketEventRow(ticket_id=ticket.id, kind="bot",
                                                 created_at=NOW))  # body: its default
    async with db.unit_of_work() as uow:
        ids = await write_bound(uow.session, [*posts, event_row], [
            {"status": "sending", "claim_token": "tok", "lease_until": lease},
            {"status": "pending", "claim_token": None, "lease_until": None},
            {"status": "pending", "claim_token": None, "lease_until": None}, None])
    assert len(set(ids[:3])) == 3 and min(ids[:3]) > by_orm
    async with db.reading() as uow:
        stored = {row.id: row for row in (await uow.session.execute(select(OutboxRow))).scalars()}
        written_event = await uow.session.get(TicketEventRow, ids[3])
    orm, first, second = stored[by_orm], stored[ids[0]], stored[ids[1]]
    assert (first.payload_json, first.status, first.claim_token) == ('{"t": "bound 0"}',
                                                                    "sending", "tok")
    assert first.lease_until == lease and first.kind == orm.kind == "post"
    assert first.due_at == orm.due_at == NOW and first.created_at == NOW
    assert (second.status, second.claim_token, second.lease_until) == ("pending", None, None)
    assert (written_event.ticket_id, written_event.body, written_event.created_at) == (
        ticket.id, "", NOW)
    # Due-time ordering in SQL still holds between bound and ORM-written rows.
    async with db.reading() as uow:
        due = (await uow.session.execute(select(OutboxRow.id).where(
            OutboxRow.due_at <= NOW, OutboxRow.status == "pending"))).scalars().all()
    assert set(due) == {by_orm, ids[1], ids[2]}


def _message(text: str) -> OutboundMessage:
    return OutboundMessage(channel_id="C1", text=text)
