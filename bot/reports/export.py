"""Exports: the tickets of a filter as CSV or JSON lines, and the figures as CSV.

Tickets are streamed from the database in batches, so an export of a year's tickets
holds one batch in memory, not the year. Cells a spreadsheet would read as a formula
(text a requester wrote that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) are written with a leading apostrophe: an export must not run anyone's formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timezone
from typing import Any, TextIO

from sqlalchemy import func, select, text
from sqlalchemy.orm import aliased

from bot.domain.calendar import BusinessCalendar
from bot.reports.figures import (
    BusinessClock, Figures, as_dict, in_period, matches_workspace, ticket_slices,
)
from bot.reports.filters import ReportFilter
from bot.storage.tables import RATED, PersonRow, TicketEventRow, TicketRow
from bot.storage.uow import UnitOfWork

TICKET_COLUMNS = (
    "number", "status", "priority", "subject", "requester", "owner", "channel_id",
    "created_at", "first_response_at", "resolved_at", "closed_at",
    "first_response_business_s", "resolution_business_s", "rating",
)
FORMATS = ("csv", "jsonl")
_BATCH = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _utc(value: datetime) -> datetime:
    """An instant read back from the database as aware UTC (SQLite returns it naive)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def ticket_rows(uow: UnitOfWork, filt: ReportFilter, now: datetime,
                      calendar: BusinessCalendar | None = None) -> AsyncIterator[dict[str, Any]]:
    """The tickets opened in the filter's period (and slices), oldest first, one dict
    per ticket with :data:`TICKET_COLUMNS`; business times on ``calendar``.

    The durations are each ticket's own, whenever its first response or resolution
    came: a ticket opened on the period's last Friday and answered on the Monday after
    reads its real duration, never 0. ``now`` is kept for callers; the business clock
    spans exactly the instants the rows measure, whatever the period's bounds (a
    period ending in the year 9999 measures the same tickets as one ending today)."""
    calendar = calendar or BusinessCalendar.always_open()
    requester, owner = aliased(PersonRow), aliased(PersonRow)
    ev = TicketEventRow
    rating = (select(ev.body).where(ev.ticket_id == TicketRow.id, text(RATED))
              .order_by(ev.id.desc()).limit(1).scalar_subquery())
    if not await matches_workspace(uow, filt):
        return
    conditions = (*ticket_slices(filt), in_period(TicketRow.created_at, filt))
    lo, first_last, resolved_last = (await uow.session.execute(
        select(func.min(TicketRow.created_at), func.max(TicketRow.first_response_at),
               func.max(TicketRow.resolved_at)).where(*conditions))).one()
    if lo is None:
        return
    hi = max((moment for moment in (first_last, resolved_last, lo) if moment is not None),
             key=_utc)
    clock = BusinessClock(calendar, _utc(lo), _utc(hi))
    query = (select(TicketRow.number, TicketRow.status, TicketRow.priority, TicketRow.subject,
                    requester.display_name, requester.external_id, owner.display_name,
                    owner.external_id, TicketRow.channel_id, TicketRow.created_at,
                    TicketRow.first_response_at, TicketRow.resolved_at, TicketRow.closed_at,
                    rating)
             .join(requester, requester.id == TicketRow.requester_id)
             .outerjoin(owner, owner.id == TicketRow.owner_id)
             .where(*conditions)
             .order_by(TicketRow.created_at, TicketRow.id))
    result = await uow.session.stream(query.execution_options(yield_per=_BATCH))
    async for row in result:
        (number, status, priority, subject, r_name, r_ext, o_name, o_ext, channel, created,
         first, resolved, closed, rated) = row
        yield {
            "number": number, "status": status, "priority": priority, "subject": subject,
            "requester": r_name or r_ext, "owner": (o_name or o_ext) if o_ext else None,
            "channel_id": channel, "created_at": _iso(created),
            "first_response_at": _iso(first), "resolved_at": _iso(resolved),
            "closed_at": _iso(closed),
            "first_response_business_s": round(clock.between(created, first))
            if first else None,
            "resolution_business_s": round(clock.between(created, resolved))
            if resolved else None,
            "rating": int(rated) if rated and rated.isdigit() else None,
        }


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet may read it: text that would start a formula is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


async def write_tickets(rows: AsyncIterator[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write ``rows`` to ``out`` as ``fmt`` ("csv" with a header, or "jsonl");
    returns how many tickets were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    written = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(TICKET_COLUMNS)
    async for row in rows:
        if writer is not None:
            writer.writerow([safe_cell(row[column]) for column in TICKET_COLUMNS])
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


def figures_rows(figures: Figures) -> Iterable[tuple[str, str, str, Any]]:
    """The figures as (section, item, measure, value) rows: one flat table that a
    spreadsheet can pivot. Durations are in seconds of business time."""
    data = as_dict(figures)
    for key in ("opened", "resolved", "closed", "reopened", "reopen_rate", "self_solved"):
        yield "tickets", "all", key, data[key]
    for key in ("first_response", "resolution"):
        for measure, value in data[key].items():
            yield key, "all", measure, value
    for row in data["sla"]:
        for measure, value in row.items():
            if measure != "priority":
                yield "sla", row["priority"], measure, value
    for measure, value in data["promises"].items():
        yield "promises", "all", measure, value
    csat = data["csat"]
    for measure in ("responses", "average", "response_rate", "comments"):
        yield "csat", "all", measure, csat[measure]
    for rating, count in csat["distribution"].items():
        yield "csat", f"rating_{rating}", "count", count
    for measure, value in data["incidents"].items():
        if measure == "open":
            for incident in value:
                yield "incident", f"INC-{incident['number']}", "linked_tickets", \
                    incident["linked_tickets"]
        else:
            yield "incidents", "all", measure, value
    for label, count in data["backlog"].items():
        yield "backlog", label, "count", count
    for day in data["days"]:
        for measure, value in day.items():
            if measure != "day":
                yield "day", day["day"], measure, value
    for agent in data["agents"]:
        name = agent["name"] or str(agent["person_id"])
        for measure in ("first_responses", "resolved", "ratings", "csat_average"):
            yield "agent", name, measure, agent[measure]
        for key in ("first_response", "resolution"):
            for measure in ("median_s", "p90_s"):
                yield "agent", name, f"{key}_{measure}", agent[key][measure]
        for measure in ("made", "kept", "covered", "late", "open"):
            yield "agent", name, f"promises_{measure}", agent["promises"][measure]


def figures_csv(figures: Figures) -> str:
    """The figures of one filter as CSV text (header: section, item, measure, value),
    for the dashboard's download and for anyone's spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("section", "item", "measure", "value"))
    for section, item, measure, value in figures_rows(figures):
        writer.writerow((section, safe_cell(item), measure, safe_cell(value)))
    return out.getvalue()


__all__ = ["FORMATS", "TICKET_COLUMNS", "figures_csv", "figures_rows", "safe_cell",
           "ticket_rows", "write_tickets"]
