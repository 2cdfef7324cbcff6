"""Retention (issue 17): old delivery records are pruned in small batches, and nothing a
live card, thread, retry or report still reads goes with them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from bot.clock import OffsetClock
from bot.core import DeliveryError
from bot.outbox.dispatcher import OutboxDispatcher
from bot.storage import migrate
from bot.storage.reports import promise_report
from bot.storage.retention import Retention
from bot.storage.tables import (
    OutboxRow, ProcessedEventRow, PromiseRow, TicketEventRow, TicketRow,
)
from bot.storage.uow import Database
from bot.ticker import Ticker
from tests.flows.story import FlowDesk

DAYS = 30


async def _count(db, model, *where) -> int:
    async with db.reading() as uow:
        return (await uow.session.execute(select(func.count()).select_from(model)
                                          .where(*where))).scalar_one()


async def _outbox(db) -> dict[int, str]:
    async with db.reading() as uow:
        return dict((await uow.session.execute(select(OutboxRow.id, OutboxRow.status))).all())


async def _a_desk_with_history(desk: FlowDesk) -> dict[str, int]:
    """Ticket #1 whose first response lapsed (a cover the report reads), a reply that
    could not be delivered (dead), a row still waiting and one being sent."""
    await desk.staffed()
    await desk.dm("ann", "The VPN drops every few minutes")
    await desk.advance(timedelta(days=1))  # the first response lapses: the bot covers it
    await desk.dm("bob", "The printer is jammed")
    desk.adapter.failures.append(DeliveryError("channel_not_found", permanent=True))
    await desk.command("sam", "ticket reply 2 On my way")
    async with desk.db.reading() as uow:
        cover = (await uow.session.execute(
            select(PromiseRow.cover_outbox_id).where(PromiseRow.cover_outbox_id.is_not(None))
        )).scalars().first()
    rows = await _outbox(desk.db)
    [dead] = [i for i, status in rows.items() if status == "dead"]
    waiting, sending = [i for i, status in sorted(rows.items())
                        if status == "sent" and i != cover][:2]
    async with desk.db.unit_of_work() as uow:  # as if the desk had been down meanwhile
        await uow.session.execute(update(OutboxRow).where(OutboxRow.id == waiting)
                                  .values(status="pending", sent_at=None))
        await uow.session.execute(update(OutboxRow).where(OutboxRow.id == sending)
                                  .values(status="sending", sent_at=None))
    assert cover is not None and rows[cover] == "sent"
    return {"cover": cover, "dead": dead, "waiting": waiting, "sending": sending}


async def test_old_delivery_records_go_and_what_is_still_needed_stays(db_url):
    async with FlowDesk(db_url) as desk:
        kept = await _a_desk_with_history(desk)
        before = await _outbox(desk.db)
        events = await _count(desk.db, ProcessedEventRow)
        records = [await _count(desk.db, model)
                   for model in (TicketRow, TicketEventRow, PromiseRow)]
        async with desk.db.reading() as uow:
            report = await promise_report(uow, (await desk.ticket(1)).workspace_id)
        retention = Retention(desk.db, DAYS)

        # Not yet old enough: nothing goes.
        assert await retention.prune(desk.clock.now() + timedelta(days=DAYS - 1)) \
            == type(await retention.prune(desk.clock.now()))(0, 0, False)
        assert await _outbox(desk.db) == before

        pruned = await retention.prune(desk.clock.now() + timedelta(days=DAYS + 1))
        after = await _outbox(desk.db)
        assert after == {i: before[i] for i in kept.values()}
        assert pruned.outbox == len(before) - len(kept) and pruned.events == events > 0
        assert not pruned.more
        assert await _count(desk.db, ProcessedEventRow) == 0
        assert [await _count(desk.db, model)
                for model in (TicketRow, TicketEventRow, PromiseRow)] == records
        async with desk.db.reading() as uow:
            assert await promise_report(uow, (await desk.ticket(1)).workspace_id) == report
        assert report[-1].covered == 1  # the report did read the kept cover


async def test_pruning_goes_in_bounded_batches(db_url):
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        for n in range(5):
            await desk.dm(f"user{n}", f"Problem number {n}")
        events = await _count(desk.db, ProcessedEventRow)
        finished = await _count(desk.db, OutboxRow, OutboxRow.status.in_(("sent", "superseded")))
        assert finished > 6 and events > 6
        retention = Retention(desk.db, DAYS, batch=2, max_batches=3)
        later = desk.clock.now() + timedelta(days=DAYS + 1)
        first = await retention.prune(later)
        assert (first.outbox, first.events, first.more) == (6, 6, True)
        while (await retention.prune(later)).more:
            pass
        assert await _count(desk.db, ProcessedEventRow) == 0
        assert await _count(desk.db, OutboxRow) == 0


async def test_after_pruning_a_card_is_still_edited_in_place_and_a_thread_still_found(db_url):
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        await desk.command("ann", "ticket new Outlook crashes on start")  # a thread_root
        [card] = desk.cards(1)
        await Retention(desk.db, DAYS).prune(desk.clock.now() + timedelta(days=DAYS + 1))
        assert await _count(desk.db, OutboxRow) == 0

        await desk.requester_says("ann", 1, "It also happens in safe mode")
        timeline = [entry.body for entry in await desk.timeline(1)]
        assert "It also happens in safe mode" in timeline  # the thread is still the ticket's
        await desk.command("sam", "ticket claim 1")
        assert desk.cards(1)[-1].message.edit_of == card.message_id  # no second card


async def test_a_run_waits_its_interval_on_the_injected_clock(sqlite_url):
    clock = OffsetClock()
    db = Database.from_url(sqlite_url, clock)
    try:
        await migrate.upgrade(db.engine)
        retention = Retention(db, DAYS, every=timedelta(minutes=5))
        assert not retention.due(clock.now())  # a desk just started sends its backlog first
        clock.advance(timedelta(minutes=5))
        assert retention.due(clock.now())
        await retention.run()
        assert not retention.due(clock.now())
        clock.advance(timedelta(minutes=5))
        assert retention.due(clock.now())
    finally:
        await db.dispose()


def test_retention_is_at_least_a_day(sqlite_url):
    with pytest.raises(ValueError):
        Retention(Database.from_url(sqlite_url), 0)


async def test_the_ticker_prunes_in_the_background(sqlite_url):
    clock = OffsetClock()
    db = Database.from_url(sqlite_url, clock)
    await migrate.upgrade(db.engine)
    async with db.unit_of_work() as uow:
        await uow.events.first_time("test", "Ev-old", clock.now() - timedelta(days=DAYS + 1))
        await uow.events.first_time("test", "Ev-new", clock.now())
    retention = Retention(db, DAYS, every=timedelta(0))
    ticker = Ticker(0.02, OutboxDispatcher(db, {}), retention=retention)
    try:
        ticker.start()
        for _ in range(500):  # until the first run has ended (not a measure of speed)
            if await _count(db, ProcessedEventRow) == 1:
                break
            await asyncio.sleep(0.01)
    finally:
        await ticker.stop()
    async with db.reading() as uow:
        left = (await uow.session.execute(select(ProcessedEventRow.event_id))).scalars().all()
    await db.dispose()
    assert left == ["Ev-new"]


async def test_a_new_sqlite_file_gives_pruned_pages_back(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        # FlowDesk builds its tables itself; the engine set auto_vacuum before they existed.
        async with desk.db.reading() as uow:
            assert (await uow.session.execute(text("PRAGMA auto_vacuum"))).scalar() == 2
        async with desk.db.unit_of_work() as uow:
            for n in range(4000):
                await uow.events.first_time("test", f"Ev-{n:05}-" + "x" * 100, desk.clock.now())
        retention = Retention(desk.db, DAYS, max_batches=100)
        await retention.prune(desk.clock.now() + timedelta(days=DAYS + 1))
        full, free = await _pages(desk.db)
        assert free > 0  # pruned pages, still in the file
        freed = await retention.maintain()
        # (PRAGMA optimize may take a free page or two for its statistics.)
        assert freed > free / 2 and await _pages(desk.db) == (full - freed, 0)


async def _pages(db) -> tuple[int, int]:
    """(pages in the database, pages of them free)."""
    async with db.reading() as uow:
        return ((await uow.session.execute(text("PRAGMA page_count"))).scalar(),
                (await uow.session.execute(text("PRAGMA freelist_count"))).scalar())
