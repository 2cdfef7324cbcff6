"""Covers prepared ahead (bot/ledger/sweeper.py): worked out before the due time,
committed at it with the same words, exactly once, and never for a promise that was
kept or a ticket that changed meanwhile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bot.domain.promises import PromiseKind
from bot.ledger import sweeper as sweeper_module
from bot.ledger.sweeper import PromiseSweeper
from bot.ticker import Ticker
from bot.storage.tables import PromiseRow, TicketRow
from tests.ledger.test_ledger import promises
from tests.ledger.test_ledger_batch import many_followups, updates_to
from tests.support.harness import DeskHarness

AHEAD = timedelta(seconds=30)
# many_followups promises each follow-up 5 minutes after its claim just after 10:00,
# stated (and due) at 10:06; this is a little before: inside the prepare window, past
# the owner's warning (at 75%).
ALMOST_DUE = timedelta(minutes=5, seconds=45)
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
    """Tickets covered afresh from now on (a prepared cover is not planned again)."""
    seen: list[int] = []
    real = PromiseSweeper._cover

    async def counting(self, uow, promises, now):
        seen.extend(p.ticket_id for p in promises)
        return await real(self, uow, promises, now)

    monkeypatch.setattr(PromiseSweeper, "_cover", counting)
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
            assert update.text.startswith(f"An update on #{n}: we said we'd update you by")
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
            # Due soon, but not before the first tick has claimed it, however loaded the
            # machine (at 0.3 s, a slow tick found it due already and covered it the
            # ordinary way, leaving the second unprepared).
            for promise, due in ((first, now + timedelta(seconds=2)),
                                 (second, now + timedelta(seconds=20))):
                await uow.session.execute(update(PromiseRow).where(PromiseRow.id == promise.id)
                                          .values(due_at=due, warn_at=None))
        # A 60 s tick: the first scheduled tick comes long after, so only the wake-up
        # at the first due time can cover it.
        ticker = Ticker(60.0, desk.dispatcher, sweeper)
        ticker.start()
        await ticker.tick()
        assert {p.status for p in await promises(desk, PromiseKind.FOLLOW_UP)} == {"sending"}
        for _ in range(200):
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
    monkeypatch.setattr(sweeper_module, "COMMIT_CHUNK", 2)
    monkeypatch.setattr(sweeper_module, "COMMIT_CHUNK_SHARED", 2)
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
            # Each promise is linked to its own update in this ticket's thread.
            update = sent_as[f"hd-{promise.cover_outbox_id}"]
            assert update.message.audience == "requester"
            assert update.message.ticket_number == promise.ticket_id
        for n in range(1, 8):
            assert len(updates_to(desk, f"user{n}", mark)) == 1


async def test_every_kind_is_prepared_ahead_closes_and_cancels_included(db_url, monkeypatch):
    """Status updates, resolution targets, first responses and both kinds of wait (a
    nudge, a reminder, a close) are planned ahead and go out at their due time from
    the plan, with the same writes a live cover makes."""
    async with DeskHarness(db_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 6)  # Alex owns #1-#6, each with a follow-up
        await desk.command("alex", "ticket reply 2 Looking into it now")  # a status update
        await desk.command("alex", "ticket wait 4 requester Which laptop is it?")
        await desk.command("alex", "ticket wait 5 requester Which printer?")
        await desk.command("alex", "ticket resolve 6 Updated the client")
        await desk.dm("user7", "The printer is jammed")  # #7: new, a first response
        mark = len(desk.adapter.sent)
        # One promise per ticket falls due in the window, a different kind each.
        chosen = {1: PromiseKind.FOLLOW_UP, 2: PromiseKind.STATUS_UPDATE,
                  3: PromiseKind.RESOLUTION, 4: PromiseKind.AWAITING_REQUESTER,
                  5: PromiseKind.AWAITING_REQUESTER, 6: PromiseKind.AWAITING_CONFIRMATION,
                  7: PromiseKind.FIRST_RESPONSE}
        async with desk.db.unit_of_work() as uow:
            numbers = dict((await uow.session.execute(
                select(TicketRow.id, TicketRow.number))).all())
            due = desk.clock.now() + AHEAD / 2
            rows = (await uow.session.execute(select(PromiseRow).where(
                PromiseRow.status == "pending"))).scalars().all()
            picked = {}
            for row in rows:
                number = numbers[row.ticket_id]
                if row.kind == chosen[number].value and number not in picked:
                    picked[number] = row.id
            assert sorted(picked) == list(range(1, 8))
            await uow.session.execute(update(PromiseRow).where(
                PromiseRow.id.in_(picked.values())).values(due_at=due, warn_at=None))
            # #5's requester was nudged already: this lapse is the close.
            await uow.session.execute(update(PromiseRow).where(
                PromiseRow.id == picked[5]).values(step=1))
        live = count_live_covers(monkeypatch)
        desk.clock.advance(AHEAD / 4)
        assert await sweeper.sweep() == 0
        assert {entry.rows is not None for entry in sweeper._prepared.values()} == {True}
        desk.clock.advance(AHEAD / 2)
        assert await sweeper.sweep() == 7
        await desk.dispatcher.drain()
        assert live == []  # every cover went out as planned ahead
        said = {n: [s.message.text for s in desk.adapter.sent[mark:]
                    if s.message.audience == "requester" and s.message.ticket_number == n]
                for n in range(1, 8)}
        assert said[1][0].startswith("An update on #1")
        assert said[2][0].startswith("A quick update on #2")
        assert said[3][0].startswith("#3 is taking longer than we aimed for")
        assert said[4][0].startswith("Just checking in on #4")
        assert said[5][0].startswith("We've closed #5")
        assert said[6][0].startswith("Has #6 been solved for you?")
        assert said[7][0].startswith("An update on #7: we said someone would reply by")
        assert all(len(texts) == 1 for texts in said.values())
        async with desk.db.reading() as uow:
            five = (await uow.session.execute(select(TicketRow).where(
                TicketRow.number == 5))).scalar_one()
            open_on_five = (await uow.session.execute(select(PromiseRow).where(
                PromiseRow.ticket_id == five.id,
                PromiseRow.status.in_(("pending", "sending"))))).scalars().all()
            status_updates = (await uow.session.execute(select(PromiseRow).where(
                PromiseRow.ticket_id == next(k for k, v in numbers.items() if v == 2),
                PromiseRow.kind == "status_update", PromiseRow.status == "pending"))
            ).scalars().all()
        assert five.status == "closed" and open_on_five == []
        assert len(status_updates) == 1 and status_updates[0].misses_in_row == 1


async def test_a_prepared_resolution_cover_is_worked_out_afresh_when_the_update_it_names_moved(
        db_url):
    # A resolution target falls due while a follow-up is open: the cover points the
    # requester to the follow-up's time. If that follow-up moves after the cover was
    # prepared, the cover says the new time, never the old one.
    async with DeskHarness(db_url) as desk:
        sweeper = sweeper_preparing(desk)
        await many_followups(desk, 1)  # a follow-up due at 10:05
        async with desk.db.unit_of_work() as uow:
            await uow.session.execute(
                update(PromiseRow).where(PromiseRow.kind == PromiseKind.RESOLUTION.value)
                .values(due_at=desk.clock.now() + timedelta(minutes=2), warn_at=None))
        desk.clock.advance(timedelta(minutes=1, seconds=45))
        await sweeper.sweep()
        [resolution] = await promises(desk, PromiseKind.RESOLUTION)
        assert resolution.status == "sending"  # prepared, pointing to 10:05
        await desk.command("alex", "ticket followup 1 3h")  # moved to 13:02
        mark = len(desk.adapter.sent)
        desk.clock.advance(PAST_DUE)
        await sweeper.sweep()
        await desk.dispatcher.drain()
        [said] = [s.text for s in desk.adapter.sent[mark:]
                  if s.message.audience == "requester" and "longer than we aimed" in s.text]
        assert said.endswith("You'll get an update by today at 13:02 UTC."), said
