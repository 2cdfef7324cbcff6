"""What ``/helpdesk report`` costs the desk's writers on SQLite.

    .venv/bin/python bench/report_lock.py --sqlite-path FILE [--repeat 5]

A chat report runs inside its command's unit of work, which holds the in-process write
gate and SQLite's write lock (``BEGIN IMMEDIATE``) from the moment the event is
recorded until the answer is queued. So every write of the desk (a new ticket, a
reply, the ledger's covers) waits for the report's queries. This measures, on a
database bench/reports.py loaded (``--sqlite-path``, the same generated history), for
the last 7 and 30 days of its big workspace:

- ``all parts``: the report's queries as the first round ran them (every part of the
  figures, then the period before, then the ticket lines), inside a writing unit of
  work; ``report parts``: the same with only the parts the answer shows
  (bot/desk/features/report_commands.py, ``REPORT_PARTS``);
- ``write waited``: how long a one-row write, started 5 ms after the report, waited
  until it committed.

The cases run in turn within each repeat, so a neighbour's load falls on all of them.

One JSON line: ``{"bench": "report_lock", "db": "sqlite", "tickets": ..., "by_case":
{case: {"report_p50_ms", "report_p99_ms", "write_wait_p99_ms"}}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bench import _common as common  # noqa: E402
from bench.reports import CALENDAR, NOW, filters  # noqa: E402
from bot.desk.features.report_commands import REPORT_PARTS  # noqa: E402
from bot.desk.report_words import COMPARED  # noqa: E402
from bot.domain.sla import SlaPolicy  # noqa: E402
from bot.reports import PARTS, ReportFilter, compute_figures  # noqa: E402
from bot.reports.figures import ticket_lines  # noqa: E402
from bot.storage.uow import Database  # noqa: E402


async def chat_report(db: Database, filt: ReportFilter, parts: frozenset[str]) -> None:
    """The report's queries, in a writing unit of work as the command runs them."""
    sla = SlaPolicy.default()
    async with db.unit_of_work() as uow:
        # The command records its event first: the write lock is taken from here on.
        await uow.session.execute(text("UPDATE workspaces SET name = name WHERE id = 1"))
        await compute_figures(uow, filt, NOW, calendar=CALENDAR, sla=sla, parts=parts)
        before = ReportFilter(filt.workspace_id, filt.start - (filt.end - filt.start),
                              filt.start)
        await compute_figures(uow, before, filt.start, calendar=CALENDAR, sla=sla,
                              parts=COMPARED)
        await ticket_lines(uow, filt, NOW, CALENDAR)


async def a_write(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.session.execute(text("UPDATE workspaces SET name = name WHERE id = 2"))


async def once(db: Database, filt: ReportFilter, parts: frozenset[str]) -> tuple[float, float]:
    """One report with a write started 5 ms into it: (report ms, the write's wait ms)."""
    started = time.perf_counter()
    report = asyncio.create_task(chat_report(db, filt, parts))
    await asyncio.sleep(0.005)
    write_started = time.perf_counter()
    await a_write(db)
    waited = (time.perf_counter() - write_started) * 1000
    await report
    return (time.perf_counter() - started) * 1000, waited


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite-path", required=True,
                        help="a database bench/reports.py loaded")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with sqlite3.connect(args.sqlite_path) as con:
        tickets = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
        version = sqlite3.sqlite_version
    common.say(common.describe_machine(common.machine()))
    common.say(f"{tickets} tickets in {args.sqlite_path}")
    db = Database.from_url(f"sqlite:///{args.sqlite_path}")
    periods = {label: filt for label, filt in filters() if label in ("7d", "30d")}
    cases = [(f"{label} {name}", filt, parts) for label, filt in periods.items()
             for name, parts in (("all parts", PARTS), ("report parts", REPORT_PARTS))]
    reports: dict[str, list[float]] = {case: [] for case, _, _ in cases}
    waits: dict[str, list[float]] = {case: [] for case, _, _ in cases}
    rows, by_case = [], {}
    try:
        for label, filt in periods.items():  # warm the caches once
            await chat_report(db, filt, PARTS)
        for _ in range(args.repeat):  # the cases in turn, so the machine's load is shared
            for case, filt, parts in cases:
                took, waited = await once(db, filt, parts)
                reports[case].append(took)
                waits[case].append(waited)
    finally:
        await db.dispose()
    for case, _, _ in cases:
        by_case[case] = {
            "report_p50_ms": round(common.percentile(reports[case], 50), 1),
            "report_p99_ms": round(common.percentile(reports[case], 99), 1),
            "write_wait_p99_ms": round(common.percentile(waits[case], 99), 1)}
        rows.append((case, *by_case[case].values()))
    common.say(common.table(("case", "report p50 ms", "report p99 ms",
                             "a write waited p99 ms"), rows,
                            title=f"/helpdesk report on SQLite ({tickets} tickets, "
                                  f"{args.repeat} runs each)"))
    common.emit({"bench": "report_lock", "db": "sqlite", "tickets": tickets,
                 "repeat": args.repeat, "by_case": by_case, "version": version,
                 "load_average": common.load_average()})
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
