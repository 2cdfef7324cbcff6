"""The outbox dispatcher's batching: lanes per channel, outcomes written with the next
claim, fenced by the claim token, and a clean stop that records what was sent."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from bot.core import Delivery, DeliveryError, OutboundMessage
from bot.clock import OffsetClock
from bot.outbox.dispatcher import OutboxDispatcher
from bot.ticker import Ticker
from bot.storage.tables import OutboxRow
from bot.storage.uow import Database
from tests.support.harness import reset_schema


class SlowAdapter:
    """Accepts every send after yielding to the loop, noting how many were in flight."""

    platform = "test"
    pacing = None

    def __init__(self, hold: asyncio.Event | None = None) -> None:
        self.in_flight = self.most_in_flight = 0
        self.by_channel: dict[str, list[str]] = defaultdict(list)
        self.keys: list[str] = []
        self.hold = hold
        self.fail_channels: set[str] = set()

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            if self.hold is not None:
                await self.hold.wait()
            if message.channel_id in self.fail_channels:
                raise DeliveryError("channel_not_found", permanent=True)
            self.by_channel[message.channel_id].append(message.text)
            self.keys.append(idempotency_key)
            return Delivery(f"m-{idempotency_key}", message.channel_id, None)
        finally:
            self.in_flight -= 1


async def seeded(url: str, channels: int, per_channel: int) -> Database:
    """A fresh schema with ``per_channel`` rows queued for each of ``channels`` channels,
    interleaved the way a burst queues them."""
    db = Database.from_url(url, OffsetClock())
    await reset_schema(db)
    now = db.clock.now()
    async with db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("test", "T1", "T1", now)
        for n in range(per_channel):
            for c in range(channels):
                await uow.outbox.add(workspace.id, "test", OutboundMessage(
                    channel_id=f"C{c}", text=f"{n}"), now)
    return db


async def statuses(db: Database) -> dict[str, int]:
    async with db.reading() as uow:
        rows = (await uow.session.execute(select(OutboxRow.status))).scalars().all()
    counts: dict[str, int] = defaultdict(int)
    for status in rows:
        counts[status] += 1
    return dict(counts)


async def test_channels_go_out_at_once_and_each_channel_keeps_its_order(db_url):
    db = await seeded(db_url, channels=6, per_channel=5)
    adapter = SlowAdapter()
    try:
        dispatcher = OutboxDispatcher(db, {"test": adapter}, concurrency=4, batch_size=100)
        db.deliver_outbox_to(dispatcher)
        assert await dispatcher.drain() == 30
        assert 2 <= adapter.most_in_flight <= 4
        assert all(texts == ["0", "1", "2", "3", "4"] for texts in adapter.by_channel.values())
        assert len(adapter.by_channel) == 6 and len(set(adapter.keys)) == 30
        assert await statuses(db) == {"sent": 30}
    finally:
        await db.dispose()


async def test_a_batch_is_recorded_in_the_transaction_that_claims_the_next(sqlite_url):
    db = await seeded(sqlite_url, channels=10, per_channel=10)
    writes = []
    event.listen(db.engine.sync_engine, "before_cursor_execute",
                 lambda *args: writes.append(args[2]) if args[2].startswith("BEGIN IMMEDIATE")
                 else None)
    try:
        dispatcher = OutboxDispatcher(db, {"test": SlowAdapter()}, batch_size=25)
        db.deliver_outbox_to(dispatcher)
        assert await dispatcher.drain() == 100
        # Four batches of 25: claim, then record+claim four times. Written one row at a
        # time this would be 100 completions plus the claims.
        assert len(writes) == 5
        assert await statuses(db) == {"sent": 100}
    finally:
        await db.dispose()


async def test_an_outcome_for_a_row_someone_else_now_holds_is_dropped(db_url, caplog):
    db = await seeded(db_url, channels=3, per_channel=1)

    class Overtaken(SlowAdapter):
        """While row C0 is being sent our lease runs out and another worker claims it."""

        async def send(self, message, *, idempotency_key, attempt=1, since=None):
            if message.channel_id == "C0":
                async with db.unit_of_work() as uow:
                    await uow.session.execute(
                        update(OutboxRow).where(OutboxRow.id == int(idempotency_key[3:]))
                        .values(claim_token="someone-else"))
            return await super().send(message, idempotency_key=idempotency_key,
                                      attempt=attempt)

    adapter = Overtaken()
    try:
        dispatcher = OutboxDispatcher(db, {"test": adapter})
        db.deliver_outbox_to(dispatcher)
        started = db.clock.now()
        with caplog.at_level("WARNING", logger="bot.outbox.dispatcher"):
            assert await dispatcher.drain() == 3
        async with db.reading() as uow:
            rows = list((await uow.session.execute(select(OutboxRow).order_by(OutboxRow.id)))
                        .scalars())
        overtaken, *written = rows
        assert (overtaken.status, overtaken.claim_token) == ("sending", "someone-else")
        assert "dropped" in caplog.text
        # Each written outcome is its own row's (on PostgreSQL all go in one statement).
        assert [(r.status, r.result_message_id, r.claim_token) for r in written] == [
            ("sent", f"m-hd-{r.id}", None) for r in written]
        assert all(started <= r.sent_at <= db.clock.now() for r in written)
    finally:
        await db.dispose()


async def test_a_dead_row_alerts_in_the_same_transaction_as_its_outcome(sqlite_url):
    db = await seeded(sqlite_url, channels=2, per_channel=1)
    adapter = SlowAdapter()
    adapter.fail_channels = {"C1"}
    alerted = []

    async def on_dead(uow, row, error):
        alerted.append((row.message.channel_id, str(error)))
        await uow.outbox.add(row.workspace_id, "test", OutboundMessage(
            channel_id="C-admins", text="a message could not be delivered"), db.clock.now(),
            kind="alert")

    try:
        dispatcher = OutboxDispatcher(db, {"test": adapter}, on_dead=on_dead)
        db.deliver_outbox_to(dispatcher)
        assert await dispatcher.drain() == 2  # C0, then the alert claimed with the outcome
        assert alerted == [("C1", "channel_not_found")]
        assert adapter.by_channel["C-admins"] == ["a message could not be delivered"]
        assert await statuses(db) == {"sent": 2, "dead": 1}
    finally:
        await db.dispose()


async def test_stopping_records_what_was_already_sent(sqlite_url):
    db = await seeded(sqlite_url, channels=3, per_channel=1)
    hold = asyncio.Event()
    adapter = SlowAdapter(hold)
    dispatcher = OutboxDispatcher(db, {"test": adapter})
    db.deliver_outbox_to(dispatcher)
    ticker = Ticker(0.05, dispatcher)
    try:
        ticker.start()
        while adapter.in_flight < 3:
            await asyncio.sleep(0.01)
        stopping = asyncio.create_task(ticker.stop())
        await asyncio.sleep(0.05)
        hold.set()  # the platform answers while we are stopping
        await stopping
        assert await statuses(db) == {"sent": 3}
    finally:
        await db.dispose()


@pytest.mark.parametrize("retry_after", [None, 2.0])
async def test_failures_are_rescheduled_without_a_second_send(sqlite_url, retry_after):
    db = await seeded(sqlite_url, channels=1, per_channel=1)

    class Flaky(SlowAdapter):
        async def send(self, message, *, idempotency_key, attempt=1, since=None):
            raise DeliveryError("busy", retry_after=retry_after)

    try:
        dispatcher = OutboxDispatcher(db, {"test": Flaky()})
        db.deliver_outbox_to(dispatcher)
        assert await dispatcher.drain() == 0
        async with db.reading() as uow:
            row = (await uow.session.execute(select(OutboxRow))).scalar_one()
        assert row.status == "pending" and row.claim_token is None
        assert row.attempts == (0 if retry_after else 1)  # a 429 spends no attempt
        assert row.due_at > db.clock.now() + timedelta(seconds=0.5)
    finally:
        await db.dispose()


async def test_an_idle_tick_is_one_read_and_a_due_row_wakes_the_dispatcher(sqlite_url):
    from bot.desk.policy import Desk
    from bot.ledger.sweeper import PromiseSweeper
    from bot.settings import Settings

    db = await seeded(sqlite_url, channels=1, per_channel=1)
    statements = []
    try:
        dispatcher = OutboxDispatcher(db, {"test": SlowAdapter()})
        db.deliver_outbox_to(dispatcher)
        sweeper = PromiseSweeper(db, Desk.from_settings(Settings(), db.clock))
        ticker = Ticker(1.0, dispatcher, sweeper)
        await ticker.tick()  # the seeded row is due
        assert await dispatcher.wait_for_work(0) is True
        assert await dispatcher.drain(probe=False) == 1

        event.listen(db.engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: statements.append(statement))
        await ticker.tick()
        assert [s.split()[0] for s in statements] == ["SELECT"]  # a peek: no BEGIN
        assert await dispatcher.wait_for_work(0) is False
    finally:
        await db.dispose()


async def test_only_new_posts_wait_for_the_channels_pace(sqlite_url):
    from bot.outbox.pacing import Pacing

    db = Database.from_url(sqlite_url, OffsetClock())
    await reset_schema(db)
    now = db.clock.now()
    async with db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("test", "T1", "T1", now)
        for message in (OutboundMessage(channel_id="C1", text="post 1"),
                        OutboundMessage(channel_id="C1", text="private", ephemeral_to="U1"),
                        OutboundMessage(channel_id="C1", text="edited", edit_of="m-1"),
                        OutboundMessage(channel_id="C1", text="post 2")):
            await uow.outbox.add(workspace.id, "test", message, now)

    class Paced(SlowAdapter):
        pacing = Pacing(per_channel=1.0)

    adapter = Paced()
    try:
        dispatcher = OutboxDispatcher(db, {"test": adapter})
        db.deliver_outbox_to(dispatcher)
        assert await dispatcher.drain() == 3
        assert adapter.by_channel["C1"] == ["post 1", "private", "edited"]
        async with db.reading() as uow:
            [held] = (await uow.session.execute(
                select(OutboxRow).where(OutboxRow.status == "pending"))).scalars().all()
        assert held.attempts == 0 and held.due_at > now  # "post 2" waits its turn
        db.clock.advance(timedelta(seconds=1))
        assert await dispatcher.drain() == 1
        assert adapter.by_channel["C1"][-1] == "post 2"
    finally:
        await db.dispose()


async def test_a_failing_after_send_step_keeps_the_rest_of_the_batchs_outcomes(db_url, caplog):
    # Issue 18: one `then` (here the dead-letter alert) that raises used to roll back the
    # whole batch's outcomes, so every row in it was sent again once its lease expired.
    db = await seeded(db_url, channels=4, per_channel=1)
    adapter = SlowAdapter()
    adapter.fail_channels = {"C1"}

    async def on_dead(uow, row, error):
        raise RuntimeError("the admins' alert could not be written")

    try:
        dispatcher = OutboxDispatcher(db, {"test": adapter}, on_dead=on_dead)
        db.deliver_outbox_to(dispatcher)
        with caplog.at_level("ERROR", logger="bot.outbox.dispatcher"):
            assert await dispatcher.drain() == 3
        assert "after-send step" in caplog.text
        async with db.reading() as uow:
            rows = {r.payload_json: r for r in (await uow.session.execute(
                select(OutboxRow))).scalars()}
        by_channel = {OutboundMessage.from_dict(__import__("json").loads(p)).channel_id: r
                      for p, r in rows.items()}
        assert [by_channel[c].status for c in ("C0", "C2", "C3")] == ["sent"] * 3
        # The failing one stays claimed: its lease runs out and it is tried again.
        assert by_channel["C1"].status == "sending"
        db.clock.advance(timedelta(minutes=2))
        dispatcher.wake(leases_expired=True)
        await dispatcher.drain()
        assert sorted(adapter.keys) == sorted(f"hd-{by_channel[c].id}" for c in ("C0", "C2", "C3"))
    finally:
        await db.dispose()


async def test_a_private_answer_is_recorded_as_soon_as_it_is_shown(db_url):
    # Issue 18: a private answer (response_url, a Discord follow-up) has no idempotency
    # key on the platform; if the batch's outcomes were lost (the process died before
    # recording them), the re-attempt after the lease showed it a second time.
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)
    now = db.clock.now()
    async with db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("test", "T1", "T1", now)
        await uow.outbox.add(workspace.id, "test", OutboundMessage(
            channel_id="C1", text="only you can see this", ephemeral_to="U1"), now)
        await uow.outbox.add(workspace.id, "test", OutboundMessage(
            channel_id="C2", text="everyone can see this"), now)
    adapter = SlowAdapter()

    class Dies(OutboxDispatcher):
        """Sends its batch, then dies before the outcomes are written."""

        async def _record_and_claim(self, outcomes, *, claim, expired=True):
            if outcomes:
                raise asyncio.CancelledError
            return await super()._record_and_claim(outcomes, claim=claim, expired=expired)

    try:
        first = Dies(db, {"test": adapter})
        with pytest.raises(asyncio.CancelledError):
            await first.drain()
        assert adapter.by_channel == {"C1": ["only you can see this"],
                                      "C2": ["everyone can see this"]}
        db.clock.advance(timedelta(minutes=2))  # past the dead dispatcher's lease
        second = OutboxDispatcher(db, {"test": adapter})
        second.wake(leases_expired=True)
        await second.drain()
        # The post is re-attempted (its platform finds it by key); the private answer
        # was recorded when shown and is not re-attempted.
        assert adapter.by_channel["C1"] == ["only you can see this"]
        assert adapter.by_channel["C2"] == ["everyone can see this"] * 2
        assert await statuses(db) == {"sent": 2}
    finally:
        await db.dispose()
