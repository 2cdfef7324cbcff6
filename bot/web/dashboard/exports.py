"""The dashboard's CSV downloads: the tickets and the figures under the chosen filters.

Cells a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, a tab or a
carriage return first) are prefixed with an apostrophe: a subject typed by a requester
must never run in the lead's spreadsheet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.storage.tables import PersonRow, TicketRow
from bot.storage.uow import UnitOfWork
from bot.reports import PARTS
from bot.web.dashboard.view import DashboardFilter, WorkspacePolicy, page_figures

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


async def ticket_rows(uow: UnitOfWork, workspace_id: int, policy: WorkspacePolicy,
                      filters: DashboardFilter, now: datetime) -> list[list[str]]:
    """A header, then one row per ticket opened in the period (newest first)."""
    period = filters.report_filter(workspace_id, now, policy.calendar.timezone)
    start, end = period.start, period.end
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


async def figures_rows(uow: UnitOfWork, workspace_id: int, policy: WorkspacePolicy,
                       filters: DashboardFilter, now: datetime) -> list[list[str]]:
    """A header, then one row per figure (``figure``, ``day`` or ``agent``, ``value``);
    durations in business seconds."""
    fig = await page_figures(uow, workspace_id, policy, filters, now, PARTS)

    def seconds(value: timedelta | None) -> object:
        return None if value is None else round(value.total_seconds())

    rows: list[list[object]] = [
        ["figure", "day_or_agent", "value"],
        ["period_start", "", fig.filter.start], ["period_end", "", fig.filter.end],
        ["tickets_opened", "", fig.opened], ["tickets_resolved", "", fig.resolved],
        ["tickets_closed", "", fig.closed], ["tickets_reopened", "", fig.reopened],
        ["self_solved", "", fig.self_solved],
        ["first_response_median_s", "", seconds(fig.first_response.median)],
        ["first_response_p90_s", "", seconds(fig.first_response.p90)],
        ["resolution_median_s", "", seconds(fig.resolution.median)],
        ["resolution_p90_s", "", seconds(fig.resolution.p90)],
        ["promises_made", "", fig.promises.made], ["promises_kept", "", fig.promises.kept],
        ["promises_covered", "", fig.promises.covered], ["promises_late", "", fig.promises.late],
        ["promises_open", "", fig.promises.open],
        ["csat_responses", "", fig.csat.responses], ["csat_average", "", fig.csat.average],
    ]
    rows += [[f"csat_{n}", "", fig.csat.distribution.get(n, 0)] for n in range(1, 6)]
    rows += [[f"sla_first_met_{row.priority}", "", f"{row.first_met}/{row.first_total}"]
             for row in fig.sla]
    rows += [[f"sla_resolve_met_{row.priority}", "", f"{row.resolve_met}/{row.resolve_total}"]
             for row in fig.sla]
    rows += [[f"backlog_{bucket.label}", "", bucket.count] for bucket in fig.backlog]
    for day in fig.days:
        rows += [["opened", day.day.isoformat(), day.opened],
                 ["resolved", day.day.isoformat(), day.resolved],
                 ["first_response_median_s", day.day.isoformat(),
                  seconds(day.first_response_median)],
                 ["resolution_median_s", day.day.isoformat(), seconds(day.resolution_median)]]
    for agent in fig.agents:
        rows += [["agent_first_responses", agent.name, agent.first_responses],
                 ["agent_resolved", agent.name, agent.resolved],
                 ["agent_first_response_median_s", agent.name,
                  seconds(agent.first_response.median)],
                 ["agent_promises_made", agent.name, agent.promises.made],
                 ["agent_promises_kept", agent.name, agent.promises.kept],
                 ["agent_csat_average", agent.name, agent.csat_average]]
    return [[safe_cell(value) for value in row] for row in rows]
