"""Past periods keep their figures, and a small report's ticket lines add up to its
summary: on the hand-built history of tests/reports/test_figures.py, on both databases.

Review findings of issue 19: (13) a reopen rewrote past periods' figures (last week's
"resolved" dropped when a ticket was reopened today); (12) a report's summary did not
match the tickets it listed (a line showed every promise the ticket was ever made and
its last rating ever, the summary those of the period).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, text, update

from bot.domain.calendar import BusinessCalendar
from bot.domain.sla import SlaPolicy
from bot.reports import ReportFilter, compute_figures
from bot.reports.figures import ticket_lines
from bot.storage.tables import ReportOutcomeRow, TicketRow, report_outcomes_from_timeline
from tests.reports.test_figures import CALENDAR, END, NOW, START, at, nov

WEDNESDAY = (END, END + timedelta(days=1))


async def figures_for(db, filt, now=NOW):
    async with db.reading() as uow:
        return await compute_figures(uow, filt, now, calendar=CALENDAR,
                                     sla=SlaPolicy.default())


async def _ticket_id(uow, ids, number: int) -> int:
    return (await uow.session.execute(select(TicketRow.id).where(
        TicketRow.workspace_id == ids["ws"], TicketRow.number == number))).scalar_one()


async def _reopen(db, ids, number: int, when) -> None:
    """What the desk does on a reopen (bot/desk/features/lookup.py, change_status): the
    ticket forgets its resolution and close, then its timeline gains the status line."""
    async with db.unit_of_work() as uow:
        ticket_id = await _ticket_id(uow, ids, number)
        await uow.session.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(
            status="in_progress", resolved_at=None, closed_at=None, updated_at=when))
        await uow.tickets.add_event(ticket_id, "status", when, author_id=ids["rita"],
                                    body="in_progress", previous="closed")


def _past(f) -> tuple:
    return (f.opened, f.resolved, f.closed, f.reopened, f.resolution, f.csat.asked,
            f.csat.responses, [(d.day, d.resolved, d.resolution_median) for d in f.days],
            {a.name: (a.resolved, a.resolution) for a in f.agents})


async def test_a_reopen_today_leaves_the_past_periods_figures_as_they_were(history):
    db, ids = history
    period = ReportFilter(ids["ws"], START, END)
    before = await figures_for(db, period)
    # T5 (resolved Monday 13:00 in 2 h, closed 14:00 on the requester's "yes", rated 4)
    # is reopened on Wednesday at 10:00.
    await _reopen(db, ids, 5, at(2, 10))
    after = await figures_for(db, period)
    # Monday and Tuesday still show T5 resolved in 2 h and closed: resolved T1, T2, T5;
    # closed T1, T5, T6; resolution 2 h, 7 h, 13 h; the rating asked of T1 and T5.
    assert _past(after) == _past(before)
    assert (after.resolved, after.closed, after.csat.asked) == (3, 3, 2)
    assert after.resolution.count == 3 and after.resolution.median == timedelta(hours=7)
    # The reopen counts on Wednesday, where nothing was resolved or closed.
    wednesday = await figures_for(db, ReportFilter(ids["ws"], *WEDNESDAY))
    assert (wednesday.reopened, wednesday.resolved, wednesday.closed) == (1, 0, 0)


async def test_a_rating_given_after_the_day_counts_when_it_was_given(history):
    db, ids = history
    period = ReportFilter(ids["ws"], START, END)
    before = await figures_for(db, period)
    # T2 (resolved Tuesday) is rated 3 on Wednesday at 10:00, through the timeline.
    async with db.unit_of_work() as uow:
        t2 = await _ticket_id(uow, ids, 2)
        await uow.tickets.add_event(t2, "feedback", at(2, 10), author_id=ids["rita"],
                                    body="3", rating=3, owner_id=ids["sam"])
    after = await figures_for(db, period)
    assert after.csat.distribution == before.csat.distribution == {
        1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    wednesday = await figures_for(db, ReportFilter(ids["ws"], *WEDNESDAY))
    assert (wednesday.csat.responses, wednesday.csat.average) == (1, 3.0)
    # Nobody was asked on Wednesday (no close out of resolved): no rate to state.
    assert wednesday.csat.response_rate is None


async def test_a_ticket_resolved_in_two_periods_counts_in_each(history):
    db, ids = history
    # T5 is reopened on Wednesday 10:00 and resolved again at 15:00: opened Monday
    # 11:00: Monday 11:00-17:00 (6 h), Tuesday 8 h, Wednesday 09:00-15:00 (6 h) = 20 h
    # of business time to its second resolution.
    await _reopen(db, ids, 5, at(2, 10))
    async with db.unit_of_work() as uow:  # as the desk resolves: ticket, then timeline
        t5 = await _ticket_id(uow, ids, 5)
        await uow.session.execute(update(TicketRow).where(TicketRow.id == t5).values(
            status="resolved", resolved_at=at(2, 15)))
        await uow.tickets.add_event(t5, "status", at(2, 15), author_id=ids["ann"],
                                    body="resolved", previous="in_progress")
    monday_tuesday = await figures_for(db, ReportFilter(ids["ws"], START, END), at(2, 16))
    assert monday_tuesday.resolved == 3
    assert monday_tuesday.resolution.median == timedelta(hours=7)
    wednesday = await figures_for(db, ReportFilter(ids["ws"], *WEDNESDAY), at(2, 16))
    assert (wednesday.reopened, wednesday.resolved) == (1, 1)
    assert wednesday.resolution.median == timedelta(hours=20)
    # Over the three days, T5 counts once, at its last resolution in them (20 h).
    three_days = await figures_for(db, ReportFilter(ids["ws"], START, WEDNESDAY[1]),
                                   at(2, 16))
    assert three_days.resolved == 3
    assert three_days.resolution.p90 == timedelta(hours=20)


async def _outcomes(db, ticket_id) -> list[tuple]:
    async with db.reading() as uow:
        o = ReportOutcomeRow
        return [tuple(row) for row in (await uow.session.execute(
            select(o.kind, o.at, o.asked, o.ticket_created_at, o.priority, o.owner_id,
                   o.channel_id, o.team_id).where(o.ticket_id == ticket_id)
            .order_by(o.at, o.kind))).all()]


async def test_the_timeline_writes_the_outcome_the_migration_would(history):
    # A resolution written as the desk writes it (the ticket, then its status line)
    # gives the same report outcome the migration derives from the timeline.
    db, ids = history
    async with db.unit_of_work() as uow:
        t4 = await _ticket_id(uow, ids, 4)
        await uow.session.execute(update(TicketRow).where(TicketRow.id == t4).values(
            status="resolved", owner_id=ids["sam"], resolved_at=at(2, 11)))
        await uow.tickets.add_event(t4, "status", at(2, 11), author_id=ids["sam"],
                                    body="resolved", previous="in_progress")
        await uow.tickets.add_event(t4, "reply", at(2, 11), author_id=ids["sam"], body="done")
    written = await _outcomes(db, t4)
    assert [(kind, owner, priority) for kind, _, _, _, priority, owner, _, _ in written] == [
        ("resolved", ids["sam"], "P3")]
    async with db.unit_of_work() as uow:
        await uow.session.execute(delete(ReportOutcomeRow).where(
            ReportOutcomeRow.ticket_id == t4))
        await uow.session.execute(text(report_outcomes_from_timeline(f"AND t.id = {t4}")))
    assert await _outcomes(db, t4) == written


async def test_an_outcome_keeps_the_slices_the_ticket_had_then(history):
    # T5 was resolved by Ann as a P3 on Monday; on Wednesday it is raised to P1 and
    # given to Sam. Monday's resolution stays Ann's and a P3's.
    db, ids = history
    async with db.unit_of_work() as uow:
        t5 = await _ticket_id(uow, ids, 5)
        await uow.session.execute(update(TicketRow).where(TicketRow.id == t5).values(
            priority="P1", owner_id=ids["sam"]))
    f = await figures_for(db, ReportFilter(ids["ws"], START, END))
    agents = {a.name: (a.resolved, a.resolution.median) for a in f.agents}
    assert agents["Ann"] == (1, timedelta(hours=2))
    assert agents["Sam"] == (2, timedelta(hours=10))
    p3 = await figures_for(db, ReportFilter(ids["ws"], START, END, priority="P3"))
    assert (p3.resolved, p3.closed) == (2, 3)  # T1 and T5; closed T1, T5, T6


async def test_the_listed_tickets_add_up_to_the_summary(history):
    db, ids = history
    # Tuesday alone, oldest first: T2 (resolved, reopened, resolved again), T6 (opened
    # at 09:00, self-solved and closed), T4 (opened at 10:00, its four promises). T1
    # and T5 were rated on Monday, T3 answered on Monday: not Tuesday's.
    tuesday = ReportFilter(ids["ws"], at(1, 0), END)
    f = await figures_for(db, tuesday)
    async with db.reading() as uow:
        lines = await ticket_lines(uow, tuesday, NOW, CALENDAR)
    assert [line.number for line in lines] == [2, 6, 4]
    assert sum(line.promises.made for line in lines) == f.promises.made == 4
    assert sum(line.promises.late for line in lines) == f.promises.late == 2
    assert [line.rating for line in lines] == [None, None, None] and f.csat.responses == 0


async def test_a_ticket_counted_only_for_its_rating_or_a_promise_is_listed(history):
    db, ids = history
    # Monday 14:00 to 17:00: T5 was closed at 14:00 and rated 4 at 14:05; T1 was closed
    # at 16:00 and rated 5 at 16:05. Neither opened nor was first answered then, and
    # their only promises were made earlier: none are this period's.
    afternoon = ReportFilter(ids["ws"], nov(30, 14), nov(30, 17))
    f = await figures_for(db, afternoon)
    async with db.reading() as uow:
        lines = await ticket_lines(uow, afternoon, NOW, CALENDAR)
    assert [(line.number, line.rating, line.promises.made) for line in lines] == [
        (1, 5, 0), (5, 4, 0)]
    assert (f.csat.responses, f.promises.made, f.closed) == (2, 0, 2)
    # A rating given before the period is not the period's: Tuesday lists no rating of
    # T1 or T5 (they are not even listed: nothing of theirs happened on Tuesday).
    async with db.reading() as uow:
        tuesday = await ticket_lines(uow, ReportFilter(ids["ws"], at(1, 0), END), NOW,
                                     BusinessCalendar.always_open())
    assert 1 not in [line.number for line in tuesday]


async def test_a_busy_period_lists_no_tickets_without_searching(history):
    db, ids = history
    period = ReportFilter(ids["ws"], START, END)
    f = await figures_for(db, period)
    async with db.reading() as uow:
        assert await ticket_lines(uow, period, NOW, CALENDAR, limit=3, figures=f) is None
        assert await ticket_lines(uow, period, NOW, CALENDAR, limit=3) is None
