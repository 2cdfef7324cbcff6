"""The dashboard's CSV downloads: the tickets and the figures under the chosen filters,
written by the reports' own exports (bot/reports/export.py), so a download and
``helpdesk-bot export`` give the same columns and the same formula-safe cells.

The tickets are streamed to the browser in batches as the database yields them, so a
large period is never held in memory whole.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from aiohttp import web

from bot.reports import PARTS, compute_figures
from bot.reports.export import TICKET_COLUMNS, figures_csv, safe_cell, ticket_rows
from bot.storage.uow import UnitOfWork
from bot.web.dashboard.view import DashboardFilter, WorkspacePolicy

# Rows written to the response at a time.
BATCH = 1000


async def stream_tickets(response: web.StreamResponse, uow: UnitOfWork, workspace_id: int,
                         policy: WorkspacePolicy, filters: DashboardFilter,
                         now: datetime) -> int:
    """Write the tickets CSV (header first) to ``response``; returns how many tickets."""
    filt = filters.report_filter(workspace_id, now, policy.calendar.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TICKET_COLUMNS)
    written = 0
    async for row in ticket_rows(uow, filt, now, policy.calendar):
        writer.writerow([safe_cell(row[column]) for column in TICKET_COLUMNS])
        written += 1
        if written % BATCH == 0:
            await response.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode("utf-8"))
    return written


async def figures_text(uow: UnitOfWork, workspace_id: int, policy: WorkspacePolicy,
                       filters: DashboardFilter, now: datetime) -> str:
    """Every figure of the pages as CSV (section, item, measure, value)."""
    filt = filters.report_filter(workspace_id, now, policy.calendar.timezone)
    figures = await compute_figures(uow, filt, now, calendar=policy.calendar, sla=policy.sla,
                                    parts=PARTS)
    return figures_csv(figures)
