"""Covering a claimed batch as a set: few statements, the same words, and one bad
promise never holds up (or loses) the others."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from bot.domain.promises import PromiseKind
from bot.ledger import sweeper as sweeper_module
from bot.ledger.sweeper import MAX_COVER_ATTEMPTS
from bot.storage.tables import OutboxRow, PromiseRow
from tests.ledger.test_ledger import MONDAY_10, lapse_updates, pin, promises
from tests.flows.story import FlowDesk
from tests.support.harness import DeskHarness

TICKETS = 12


async def many_followups(desk: DeskHarness, count: int = TICKETS) -> None:
    """Alex claims ``count`` tickets and promises each requester a follow-up in 5 minutes."""
    pin(desk, MONDAY_10)
    await desk.command("boss", "helpdesk agents add alex")
    for n in range(1, count + 1):
        await desk.dm(f"user{n}", f"Problem number {n}")
        await desk.command("alex", f"ticket claim {n}")
        await desk.command("alex", f"ticket followup {n} 5m")


def updates_to(desk: DeskHarness, user: str, since: int) -> list:
    return lapse_updates([s for s in desk.adapter.sent[since:]
                          if s.message.audience == "requester"
                          and s.message.channel_id == f"D-{user}"])


async def test_a_batch_is_covered_with_a_few_statements_and_the_usual_words(db_url):
    async with DeskHarness(db_url) as desk:
        await many_followups(desk)
        mark = len(desk.adapter.sent)
        inserts = []
        event.listen(desk.db.engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: inserts.append(statement)
                     if statement.startswith("INSERT INTO outbox") else None)
        desk.clock.advance(timedelta(minutes=6))
        covered = await desk.sweeper.sweep()
        await desk.dispatcher.drain()

        assert covered == TICKETS
        # Twelve covers queue 13 messages, written by one multi-row INSERT (SQLAlchemy
        # may split it by parameter count, never one per row).
        assert 1 <= len(inserts) <= 3
        for n in range(1, TICKETS + 1):
            [update] = updates_to(desk, f"user{n}", mark)
            assert update.text.startswith(f"An update on #{n}: we said we'd update you by")
        # Alex gets one reminder naming all twelve, not twelve messages in a second.
        [reminder] = [s for s in desk.adapter.sent[mark:] if s.message.direct_to == "alex"]
        heading, *lines = reminder.message.text.splitlines()
        assert heading.startswith("Reminder: 12 of your tickets had a promised time pass")
        assert lines == [f"• #{n} for User{n}: promised follow-up was due today at 10:06 UTC; "
                         "next by tomorrow at 10:06 UTC" for n in range(1, TICKETS + 1)]
        follow_ups = await promises(desk, PromiseKind.FOLLOW_UP)
        missed = [p for p in follow_ups if p.status == "missed"]
        assert len(missed) == TICKETS and {p.resolution for p in missed} == {"bot"}
        assert sum(p.status == "pending" and p.misses_in_row == 1 for p in follow_ups) == TICKETS
        # Each missed promise points at the update that covered it.
        async with desk.db.reading() as uow:
            covers = {row.id: row for row in (await uow.session.execute(select(OutboxRow).where(
                OutboxRow.id.in_([p.cover_outbox_id for p in missed])))).scalars()}
        assert len(covers) == TICKETS
        assert all('"audience": "requester"' in row.payload_json for row in covers.values())


async def test_one_failing_cover_neither_blocks_nor_loses_the_others(sqlite_url, monkeypatch):
    async with DeskHarness(sqlite_url) as desk:
        await many_followups(desk, 4)
        real = sweeper_module.plan_cover

        def broken_for_ticket_two(inputs):
            if inputs.ticket.number == 2:
                raise RuntimeError("a bug in covering #2")
            return real(inputs)

        monkeypatch.setattr(sweeper_module, "plan_cover", broken_for_ticket_two)
        mark = len(desk.adapter.sent)
        desk.clock.advance(timedelta(minutes=6))
        assert await desk.sweeper.sweep() == 3
        await desk.dispatcher.drain()
        assert [len(updates_to(desk, f"user{n}", mark)) for n in (1, 2, 3, 4)] == [1, 0, 1, 1]
        [held] = [p for p in await promises(desk, PromiseKind.FOLLOW_UP)
                  if p.status not in ("missed", "pending")]
        assert held.status == "sending" and held.attempts == 1  # its lease will expire

        # Retried after each lease, then given up on, visibly, never silently dropped.
        for _ in range(MAX_COVER_ATTEMPTS - 1):
            desk.clock.advance(desk.sweeper.lease + timedelta(seconds=1))
            await desk.sweeper.sweep()
        async with desk.db.reading() as uow:
            gave_up = await uow.session.get(PromiseRow, held.id)
        assert (gave_up.status, gave_up.resolution) == ("missed", "failed")

        monkeypatch.setattr(sweeper_module, "plan_cover", real)
        assert [len(updates_to(desk, f"user{n}", mark)) for n in (1, 2, 3, 4)] == [1, 0, 1, 1]


async def test_two_promises_of_one_ticket_lapsing_together_are_each_covered_once(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await many_followups(desk, 2)
        [first, _] = await promises(desk, PromiseKind.FOLLOW_UP)
        async with desk.db.unit_of_work() as uow:  # a second follow-up on ticket #1
            await uow.promises.make(first.workspace_id, first.ticket_id, PromiseKind.FOLLOW_UP,
                                    first.due_at, desk.clock.now(), owner_id=first.owner_id)
        mark = len(desk.adapter.sent)
        desk.clock.advance(timedelta(minutes=6))
        assert await desk.sweeper.sweep() == 3
        await desk.dispatcher.drain()
        assert len(updates_to(desk, "user1", mark)) == 2
        assert len(updates_to(desk, "user2", mark)) == 1
        rows = await promises(desk, PromiseKind.FOLLOW_UP)
        assert sum(p.status == "missed" and p.resolution == "bot" for p in rows) == 3
        # Each ticket goes on with one follow-up: the second cover's new time replaces
        # the first's (a ticket has one update cadence).
        assert sorted(p.ticket_id for p in rows if p.status == "pending") == \
            sorted({p.ticket_id for p in rows})


async def test_the_card_after_a_cover_shows_the_new_promise_when_covered_one_by_one(
        sqlite_url, monkeypatch):
    """A batch that fails together is covered one by one; each card then shows the
    ticket's next promise as the cover left it, not the one that lapsed."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        for n, user in ((1, "ann"), (2, "bob")):
            await desk.dm(user, f"Problem number {n}")
            await desk.command("sam", f"ticket claim {n}")
            await desk.command("sam", f"ticket followup {n} 5m")
        assert dict(desk.cards(1)[-1].message.fields)["Next promise"] == \
            "promised follow-up due today at 10:05 UTC"
        real, failed = sweeper_module.apply_plans, []

        async def fails_for_a_batch(uow, plans, now):
            if len(plans) > 1:
                failed.append(len(plans))
                raise RuntimeError("the set failed")
            return await real(uow, plans, now)

        monkeypatch.setattr(sweeper_module, "apply_plans", fails_for_a_batch)
        await desk.advance(timedelta(minutes=6))
        assert failed == [2]  # the set was tried, then each promise alone
        for n in (1, 2):
            # The new time the cover gave: a business day on, never sooner than the
            # missed promise's own length.
            assert dict(desk.cards(n)[-1].message.fields)["Next promise"] == \
                "promised follow-up due tomorrow at 10:06 UTC"
        follow_ups = await promises(desk, PromiseKind.FOLLOW_UP)
        assert sorted(p.status for p in follow_ups) == ["missed", "missed", "pending", "pending"]
