"""Covers prepared ahead (bot/ledger/prepared.py): worked out before the due time,
committed at it with the same words, exactly once, and never for a promise that was
kept or a ticket that changed meanwhile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from bot.domain.promises import PromiseKind
from bot.ledger.lapses import LapseCover
from bot.ledger import prepared
from bot.ledger.sweeper import PromiseSweeper
from bot.ticker import Ticker
from bot.storage.tables import PromiseRow
from tests.ledger.test_ledger import promises
from tests.ledger.test_ledger_batch import many_followups, updates_to
from tests.support.harness import DeskHarness

AHEAD = timedelta(seconds=30)
# many_followups promises each follow-up 5 minutes after its claim; this is a little
# before: inside the prepare window, past the owner's warning (at 75%).
ALMOST_DUE = timedelta(minutes=4, seconds=45)
PAST_DUE = timedelta(seconds=30)


def sweeper_preparing(desk: DeskHarness) -> PromiseSweeper:
    sweeper = PromiseSweeper(desk.db, desk.desk, prepare_ahead=AHEAD)
    desk.jobs = [sweeper.sweep]
    return sweeper


async def prepared_before_due(desk: DeskHarness, sweeper: PromiseSweeper) -> int:
    """Let time run to just before the follow-ups fall due and sweep once (so their
    covers are prepared); returns the transcript mark from before."""
    mark = len(desk.adapter.sent)
    desk.clock.advance(ALMOST_DUE)
    await sweeper.sweep()
    return mark


def count_live_covers(monkeypatch) -> list[int]:
    """Tickets covered by LapseCover from now on (a prepared cover is not re-run)."""
    seen: list[int] = []
    real = LapseCover.run

    async def counting(self):
        seen.append(self.promise.ticket_id)
        return await real(self)

    monkeypatch.setattr(LapseCover, "run", counting)
    return seen


async def test_covers_prepared_ahead_go_out_at_the_due_time_with_the_usual_words(
        db_url, monkeypatch):
    async with DeskHarness(db_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 4)
        mark = len(desk.adapter.sent)
        desk.clock.advance(ALMOST_DUE)
        assert await sweeper.sweep() == 0
        await desk.dispatcher.drain()
        follow_ups = await promises(desk, PromiseKind.FOLLOW_UP)
        assert [p.status for p in follow_ups] == ["sending"] * 4  # claimed, not yet covered
        assert all(not updates_to(desk, f"user{n}", mark) for n in range(1, 5))
        assert sweeper.next_prepared_at is not None

        live = count_live_covers(monkeypatch)
        warned = len(desk.adapter.sent)  # the owner's heads-ups came before
        desk.clock.advance(PAST_DUE)
        assert await sweeper.sweep() == 4
        await desk.dispatcher.drain()
        assert live == []  # the covers worked out ahead were used as they were
        for n in range(1, 5):
            [update] = updates_to(desk, f"user{n}", mark)
            assert update.text.startswith(f"An update on #{n}: Alex planned to get back to you")
            assert " is late" not in update.text
        # One reminder for Alex naming all four, as a batch covered at the due time gets.
        [reminder] = [s for s in desk.adapter.sent[warned:] if s.message.direct_to == "alex"]
        heading, *lines = reminder.message.text.splitlines()
        assert heading.startswith("Reminder: 4 of your tickets had a promised time pass")
        assert [line.split(":")[0] for line in lines] == [f"• #{n} for User{n}" for n in range(1, 5)]
        follow_ups = await promises(desk, PromiseKind.FOLLOW_UP)
        missed = [p for p in follow_ups if p.status == "missed"]
        assert len(missed) == 4 and {p.resolution for p in missed} == {"bot"}
        assert all(p.cover_outbox_id for p in missed)
        assert sum(p.status == "pending" and p.misses_in_row == 1 for p in follow_ups) == 4

        # Nothing more, ever: another sweep later covers and sends nothing again.
        sent = len(desk.adapter.sent)
        desk.clock.advance(timedelta(seconds=5))
        assert await sweeper.sweep() == 0
        await desk.dispatcher.drain()
        assert len(desk.adapter.sent) == sent


async def test_a_promise_kept_after_its_cover_was_prepared_sends_nothing(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 2)
        mark = await prepared_before_due(desk, sweeper)
        await desk.command("alex", "ticket reply 1 Found it: the VPN client needs an update")
        desk.clock.advance(PAST_DUE)
        assert await sweeper.sweep() == 1
        await desk.dispatcher.drain()
        assert updates_to(desk, "user1", mark) == []  # Alex kept it: no bot update
        assert len(updates_to(desk, "user2", mark)) == 1
        first, second = sorted((await promises(desk, PromiseKind.FOLLOW_UP))[:2],
                               key=lambda p: p.ticket_id)
        assert (first.status, second.status) == ("kept", "missed")


async def test_a_ticket_changed_after_preparing_is_covered_afresh(sqlite_url, monkeypatch):
    async with DeskHarness(sqlite_url) as desk:
        sweeper = sweeper_preparing(desk)
        await desk.command("boss", "helpdesk agents add bea")
        await many_followups(desk, 2)
        mark = await prepared_before_due(desk, sweeper)
        await desk.command("alex", "ticket assign 1 <@bea|Bea>")  # a new owner meanwhile
        live = count_live_covers(monkeypatch)
        desk.clock.advance(PAST_DUE)
        assert await sweeper.sweep() == 2
        await desk.dispatcher.drain()
        ticket_one = (await promises(desk, PromiseKind.FOLLOW_UP))[0].ticket_id
        assert live == [ticket_one]  # worked out again, with what is true now
        assert len(updates_to(desk, "user1", mark)) == 1
        assert len(updates_to(desk, "user2", mark)) == 1


async def test_a_cover_that_would_change_rows_is_not_prepared_but_covered_on_time(
        sqlite_url, monkeypatch):
    async with DeskHarness(sqlite_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 1)
        real = LapseCover._cover_desk_promise

        async def also_cancels(self):
            await self.uow.promises.cancel(self.ticket.id, self.now, (PromiseKind.STATUS_UPDATE,))
            return await real(self)

        monkeypatch.setattr(LapseCover, "_cover_desk_promise", also_cancels)
        mark = await prepared_before_due(desk, sweeper)
        [entry] = sweeper._prepared.values()
        assert entry.rows is None  # the write was refused, so nothing was worked out ahead
        desk.clock.advance(PAST_DUE)
        assert await sweeper.sweep() == 1
        await desk.dispatcher.drain()
        assert len(updates_to(desk, "user1", mark)) == 1


async def test_stopping_hands_prepared_promises_back_for_another_process(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 3)
        mark = await prepared_before_due(desk, sweeper)
        assert await sweeper.release_prepared() == 3
        assert sweeper.next_prepared_at is None
        assert {p.status for p in await promises(desk, PromiseKind.FOLLOW_UP)} == {"pending"}
        desk.clock.advance(PAST_DUE)
        assert await desk.sweeper.sweep() == 3  # another sweeper, preparing nothing
        await desk.dispatcher.drain()
        assert all(len(updates_to(desk, f"user{n}", mark)) == 1 for n in range(1, 4))


async def test_the_ticker_wakes_at_a_prepared_due_time_and_hands_the_rest_back_on_stop(
        sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 2)
        mark = len(desk.adapter.sent)
        first, second = await promises(desk, PromiseKind.FOLLOW_UP)
        now = desk.clock.now()
        async with desk.db.unit_of_work() as uow:
            for promise, due in ((first, now + timedelta(seconds=0.3)),
                                 (second, now + timedelta(seconds=20))):
                await uow.session.execute(update(PromiseRow).where(PromiseRow.id == promise.id)
                                          .values(due_at=due, warn_at=None))
        # A 60 s tick: the first scheduled tick comes long after, so only the wake-up
        # at the first due time can cover it.
        ticker = Ticker(60.0, desk.dispatcher, sweeper)
        ticker.start()
        await ticker.tick()
        assert {p.status for p in await promises(desk, PromiseKind.FOLLOW_UP)} == {"sending"}
        for _ in range(100):
            await asyncio.sleep(0.05)
            if updates_to(desk, "user1", mark):
                break
        assert len(updates_to(desk, "user1", mark)) == 1

        await ticker.stop()  # the second is not due yet: its claim is handed back
        statuses = [p.status for p in await promises(desk, PromiseKind.FOLLOW_UP)][:2]
        assert statuses == ["missed", "pending"]
        assert updates_to(desk, "user2", mark) == []


async def test_many_chunks_commit_each_cover_once_linked_to_its_own_update(db_url, monkeypatch):
    # Two covers a chunk: on PostgreSQL the chunks commit side by side.
    monkeypatch.setattr(prepared, "COMMIT_CHUNK", 2)
    monkeypatch.setattr(prepared, "COMMIT_CHUNK_SHARED", 2)
    async with DeskHarness(db_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 7)
        mark = await prepared_before_due(desk, sweeper)
        desk.clock.advance(PAST_DUE)
        assert await sweeper.sweep() == 7
        await desk.dispatcher.drain()
        sent_as = {s.idempotency_key: s for s in desk.adapter.sent[mark:]}
        for promise in await promises(desk, PromiseKind.FOLLOW_UP):
            if promise.status == "pending":
                continue
            assert (promise.status, promise.resolution) == ("missed", "bot")
            # The fence wrote the link: the cover is the update in this ticket's thread.
            update = sent_as[f"hd-{promise.cover_outbox_id}"]
            assert update.message.audience == "requester"
            assert update.message.ticket_number == promise.ticket_id
        for n in range(1, 8):
            assert len(updates_to(desk, f"user{n}", mark)) == 1
