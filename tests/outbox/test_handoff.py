"""Fresh outbox rows handed to this process's dispatcher in memory: delivered with no
claim transaction, and never lost when the process stops or dies before sending."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from bot.outbox.dispatcher import OutboxDispatcher
from bot.storage.tables import OutboxRow
from tests.support.harness import DeskHarness
from tests.support.recording import RecordingAdapter


def claims(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("UPDATE outbox SET status=")
            and "IN (SELECT" in s]


async def test_a_handlers_rows_are_sent_without_a_claim(db_url):
    async with DeskHarness(db_url) as desk:
        statements: list[str] = []
        event.listen(desk.db.engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: statements.append(statement))
        await desk.dm("ann", "My VPN keeps dropping")
        [ack] = desk.adapter.sent
        assert ack.text.startswith("Thanks, Ann. I've opened ticket #1")
        assert claims(statements) == []  # the row came in memory, already claimed
        async with desk.db.reading() as uow:
            [row] = (await uow.session.execute(select(OutboxRow))).scalars().all()
        assert (row.status, row.attempts, row.claim_token) == ("sent", 1, None)


async def test_rows_handed_to_a_process_that_dies_are_sent_once_after_the_lease(db_url):
    async with DeskHarness(db_url) as desk:
        await desk.router(await _queued_dm(desk, "ann", "Printer on fire"))
        desk.dispatcher.handoff.drop_all()  # the process dies before sending it
        async with desk.db.reading() as uow:
            [lost] = (await uow.session.execute(select(OutboxRow))).scalars().all()
        assert lost.status == "sending" and lost.claim_token
        other = RecordingAdapter("test")
        survivor = OutboxDispatcher(desk.db, {"test": other})
        desk.db.deliver_outbox_to(survivor)
        assert await survivor.drain() == 0  # inside the lease nobody takes it
        desk.clock.advance(timedelta(seconds=61))
        assert await survivor.drain() == 1
        [ack] = other.sent
        assert ack.text.startswith("Thanks, Ann.") and ack.idempotency_key == f"hd-{lost.id}"
        assert await survivor.drain() == 0


async def _queued_dm(desk: DeskHarness, user: str, text: str):
    from bot.core import IncomingMessage
    from tests.support.harness import WORKSPACE

    message_id = desk.next_id("msg")
    return IncomingMessage(platform=desk.platform, workspace_id=WORKSPACE, event_id=message_id,
                           actor=desk.actor(user), channel_id=f"D-{user}", text=text,
                           message_id=message_id, thread_id=None, is_direct=True)


async def test_stopping_hands_unsent_rows_back_for_anyone_to_send(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.router(await _queued_dm(desk, "ann", "Screen is black"))
        assert desk.dispatcher.handoff.waiting == 1
        assert await desk.dispatcher.release_handoffs() == 1
        async with desk.db.reading() as uow:
            [row] = (await uow.session.execute(select(OutboxRow))).scalars().all()
        assert (row.status, row.attempts, row.claim_token) == ("pending", 0, None)
        await desk.dispatcher.drain()
        [ack] = desk.adapter.sent
        assert ack.message.thread_id and ack.text.startswith("Thanks, Ann.")
