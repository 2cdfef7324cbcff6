"""Migration 0011 (the report indexes) on a desk that already has its history: every row
stays, the figures read the same before and after, and a downgrade keeps the rows."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.domain.sla import SlaPolicy
from bot.reports import ReportFilter, compute_figures
from bot.reports.figures import as_dict
from bot.storage import migrate
from bot.storage.uow import Database
from tests.reports.test_figures import CALENDAR, END, NOW, START, build_history
from tests.storage.test_migrations import _empty

REPORT_INDEXES = {"ix_tickets_report_opened", "ix_tickets_report_answered",
                  "ix_tickets_report_resolved", "ix_tickets_report_closed",
                  "ix_ticket_events_reopened", "ix_ticket_events_rated",
                  "ix_ticket_events_commented", "ix_ticket_events_self_solved",
                  "ix_promises_report"}
BEFORE = "0010"  # the revision 0011 follows


async def _counts(db) -> list[int]:
    """Rows of each table, in SQL the schema of any revision answers."""
    async with db.reading() as uow:
        return [(await uow.session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                for table in ("tickets", "ticket_events", "promises")]


async def _indexes(db) -> set[str]:
    async with db.reading() as uow:
        return await (await uow.session.connection()).run_sync(lambda c: {
            index["name"] for table in ("tickets", "ticket_events", "promises")
            for index in inspect(c).get_indexes(table)}) & REPORT_INDEXES


async def _figures(db, workspace_id) -> dict:
    async with db.reading() as uow:
        return as_dict(await compute_figures(uow, ReportFilter(workspace_id, START, END), NOW,
                                             calendar=CALENDAR, sla=SlaPolicy.default()))


async def test_the_report_indexes_arrive_on_a_populated_desk(db_url):
    # The history is written at the newest schema (its rows are built with today's
    # models); going back to before 0011 and up again is 0011 arriving on a desk full of
    # history, with every later revision undone and redone around it.
    db = Database.from_url(db_url)
    try:
        await _empty(db.engine)
        await migrate.upgrade(db.engine)
        ids = await build_history(db)
        counts, figures = await _counts(db), await _figures(db, ids["ws"])
        assert counts == [7, 14, 9] and figures["opened"] == 4
        await migrate.downgrade(db.engine, BEFORE)
        assert await _counts(db) == counts and await _indexes(db) == set()
        await migrate.upgrade(db.engine)
        assert await _indexes(db) == REPORT_INDEXES
        assert await _counts(db) == counts and await _figures(db, ids["ws"]) == figures
    finally:
        await _empty(db.engine)
        await db.dispose()
