"""Migration 0011 (the report indexes) on a desk that already has its history: every row
stays, the figures read the same before and after, and a downgrade keeps the rows."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from bot.domain.sla import SlaPolicy
from bot.reports import ReportFilter, compute_figures
from bot.reports.figures import as_dict
from bot.storage import migrate
from bot.storage.tables import PromiseRow, TicketEventRow, TicketRow
from bot.storage.uow import Database
from tests.reports.test_figures import CALENDAR, END, NOW, START, build_history
from tests.storage.test_migrations import _empty

REPORT_INDEXES = {"ix_tickets_report_opened", "ix_tickets_report_answered",
                  "ix_tickets_report_resolved", "ix_tickets_report_closed",
                  "ix_ticket_events_reopened", "ix_ticket_events_rated",
                  "ix_ticket_events_commented", "ix_ticket_events_self_solved",
                  "ix_promises_report"}


async def _state(db, workspace_id):
    async with db.reading() as uow:
        counts = [(await uow.session.execute(select(func.count()).select_from(model)))
                  .scalar_one() for model in (TicketRow, TicketEventRow, PromiseRow)]
        figures = await compute_figures(uow, ReportFilter(workspace_id, START, END), NOW,
                                        calendar=CALENDAR, sla=SlaPolicy.default())
        indexes = await (await uow.session.connection()).run_sync(lambda c: {
            index["name"] for table in ("tickets", "ticket_events", "promises")
            for index in inspect(c).get_indexes(table)})
    return counts, as_dict(figures), indexes & REPORT_INDEXES


async def test_the_report_indexes_arrive_on_a_populated_desk(db_url):
    db = Database.from_url(db_url)
    try:
        await _empty(db.engine)
        await migrate.upgrade(db.engine, "0010")
        ids = await build_history(db)
        before_counts, before, indexes = await _state(db, ids["ws"])
        assert indexes == set()
        await migrate.upgrade(db.engine)
        after_counts, after, indexes = await _state(db, ids["ws"])
        assert indexes == REPORT_INDEXES
        assert after_counts == before_counts == [7, 14, 9]
        assert after == before and after["opened"] == 4
        await migrate.downgrade(db.engine, "0010")
        counts, _, indexes = await _state(db, ids["ws"])
        assert counts == before_counts and indexes == set()
    finally:
        await _empty(db.engine)
        await db.dispose()
