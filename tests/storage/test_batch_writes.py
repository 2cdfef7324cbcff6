"""Many new rows written at once (bot/storage/batch.py): ids taken first, one plain
INSERT per table and shape, the rows readable afterwards, and later ORM inserts never
colliding with the ids taken."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import event, select

from bot.adapters.base import OutboundMessage
from bot.clock import OffsetClock
from bot.storage.batch import write_new_rows
from bot.storage.tables import OutboxRow
from bot.storage.uow import Database
from tests.support.harness import reset_schema

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def outbox_row(workspace_id: int, text: str, **extra) -> OutboxRow:
    return OutboxRow(workspace_id=workspace_id, platform="test", payload_json=f'{{"t": "{text}"}}',
                     status="pending", due_at=NOW, attempts=0, created_at=NOW, **extra)


async def test_new_rows_get_ids_and_are_written_with_one_insert_per_shape(db_url):
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)
    inserts: list[tuple[str, bool]] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append((statement, executemany))

    try:
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
    finally:
        await db.dispose()


async def test_a_rolled_back_batch_leaves_nothing(db_url):
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)
    try:
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
    finally:
        await db.dispose()


def _message(text: str) -> OutboundMessage:
    return OutboundMessage(channel_id="C1", text=text)
