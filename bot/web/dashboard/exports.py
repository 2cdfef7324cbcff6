"""The dashboard's CSV downloads: the tickets and the figures under the chosen filters.

Cells a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, a tab or a
carriage return first) are prefixed with an apostrophe: a subject typed by a requester
must never run in the lead's spreadsheet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.storage.tables import PersonRow, TicketRow
from bot.storage.uow import UnitOfWork
from bot.web.dashboard.view import DashboardFilter, build_view

TICKET_COLUMNS = ("number", "subject", "status", "priority", "channel", "requester", "owner",
                  "created_at", "first_response_at", "resolved_at", "closed_at")
# A download holds at most this many tickets (newest first): a spreadsheet's worth.
MAX_TICKETS = 100_000


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell no spreadsheet will evaluate."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def ticket_rows(uow: UnitOfWork, workspace_id: int, filters: DashboardFilter,
                      now: datetime) -> list[list[str]]:
    """A header, then one row per ticket opened in the period (newest first)."""
    start, end = filters.window(now)
    requester, owner = aliased(PersonRow), aliased(PersonRow)
    query = (select(TicketRow.number, TicketRow.subject, TicketRow.status, TicketRow.priority,
                    TicketRow.channel_id, requester.display_name, owner.display_name,
                    TicketRow.created_at, TicketRow.first_response_at, TicketRow.resolved_at,
                    TicketRow.closed_at)
             .join(requester, requester.id == TicketRow.requester_id)
             .outerjoin(owner, owner.id == TicketRow.owner_id)
             .where(TicketRow.workspace_id == workspace_id, TicketRow.created_at >= start,
                    TicketRow.created_at < end)
             .order_by(TicketRow.number.desc()).limit(MAX_TICKETS))
    if filters.channel:
        query = query.where(TicketRow.channel_id == filters.channel)
    if filters.priority:
        query = query.where(TicketRow.priority == filters.priority)
    rows = [list(TICKET_COLUMNS)]
    for row in (await uow.session.execute(query)).all():
        rows.append([safe_cell(value) for value in row])
    return rows


async def figures_rows(uow: UnitOfWork, workspace_id: int, filters: DashboardFilter,
                       now: datetime) -> list[list[str]]:
    """A header, then one row per figure (``name``, ``value``); daily series as one row
    per day."""
    view = await build_view(uow, workspace_id, filters, now)
    rows: list[list[object]] = [["figure", "day", "value"],
                                ["period_start", "", view.start], ["period_end", "", view.end],
                                ["tickets_opened", "", view.tickets],
                                ["tickets_resolved", "", view.resolved],
                                ["first_response_median_minutes", "",
                                 view.first_response_median_min],
                                ["resolution_median_hours", "", view.resolution_median_h],
                                ["promises_made", "", view.promises_made],
                                ["promises_kept", "", view.promises_kept],
                                ["promises_covered", "", view.promises_covered],
                                ["promises_late", "", view.promises_late]]
    rows += [[f"csat_{n + 1}", "", count] for n, count in enumerate(view.csat)]
    rows += [[f"backlog_{key}", "", count] for key, count in view.backlog]
    for n, day in enumerate(view.days):
        rows.append(["opened", day, view.opened_per_day[n]])
        rows.append(["resolved", day, view.resolved_per_day[n]])
    for agent in view.agents:
        rows += [[f"agent_owned:{agent.name}", "", agent.owned],
                 [f"agent_resolved:{agent.name}", "", agent.resolved],
                 [f"agent_promises_kept:{agent.name}", "", agent.promises_kept]]
    return [[safe_cell(value) for value in row] for row in rows]
