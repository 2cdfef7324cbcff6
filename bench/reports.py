"""Report and dashboard queries over a million generated tickets, on SQLite and PostgreSQL.

    .venv/bin/python bench/reports.py [--tickets 1000000] [--db sqlite|postgres|both]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/helpdesk_bench_reports]
        [--repeat 5] [--explain FILE] [--sqlite-path FILE] [--reuse]

Generates a year of a desk's history straight into a migrated schema (bulk inserts on
SQLite, COPY on PostgreSQL; never through the desk, which would take days): three
workspaces (80% of the tickets in the first), agents and requesters, each ticket with
its timeline (opened, claimed, replies, resolved, closed, some reopened, some solved
with an article, ratings and comments), its promises (first response, follow-ups,
status updates, the confirmation wait, some superseded; kept on time, kept late, or
lapsed and covered by the bot on time, late or never), the outbox rows that covered
the lapses, and the report outcomes of its resolutions and closes (as the desk's
timeline writes them). Then it runs each dashboard page's figures (:data:`PAGES`: which parts of
:func:`bot.reports.compute_figures` a page shows) for a mix of filters (the last 30 and
7 days of the big workspace, one priority, one agent, one channel) ``--repeat`` times,
and reports each page's p50/p99. ``--explain`` writes each query's plan (EXPLAIN
ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) to a file.

One JSON line per database: ``{"bench": "reports", "db": ..., "tickets": ...,
"page_p99_ms": <the slowest page's p99>, "by_page": {page: p99_ms, ...}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, time as clock_time, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from bench import _common as common  # noqa: E402
from bot.domain.calendar import BusinessCalendar  # noqa: E402
from bot.domain.sla import SlaPolicy  # noqa: E402
from bot.reports import ReportFilter, compute_figures  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.tables import report_outcomes_from_timeline  # noqa: E402
from bot.storage.uow import Database  # noqa: E402
from bot.web.dashboard.view import PAGE_PARTS  # noqa: E402

# Which figures each dashboard page asks for: the dashboard's own list, so the bench
# measures what the pages do (until rollup19 it kept a copy, which had drifted: the
# overview page shows the promises kept too, and the promises page the ratings).
PAGES: dict[str, frozenset[str]] = dict(PAGE_PARTS)
NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
DAYS = 365
WORKSPACE_SHARES = (0.8, 0.1, 0.1)
AGENTS, REQUESTERS, CHANNELS = 25, 3000, 6
PRIORITIES = (("P1", 0.05), ("P2", 0.2), ("P3", 0.6), ("P4", 0.15))
CHUNK = 20_000
CALENDAR = BusinessCalendar.weekdays(clock_time(9), clock_time(17), "UTC")
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/helpdesk_bench_reports"

TABLES = {
    "tickets": ("id", "workspace_id", "number", "requester_id", "owner_id", "status",
                "priority", "subject", "first_message", "channel_id", "in_a_hurry",
                "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at"),
    "ticket_events": ("id", "ticket_id", "kind", "author_id", "body", "data_json",
                      "created_at"),
    "promises": ("id", "workspace_id", "ticket_id", "kind", "owner_id", "text", "made_at",
                 "due_at", "status", "resolution", "resolved_at", "misses_in_row", "step",
                 "attempts", "cover_outbox_id"),
    "outbox": ("id", "workspace_id", "ticket_id", "platform", "kind", "payload_json",
               "status", "due_at", "attempts", "created_at", "sent_at"),
}


class History:
    """Deterministic generator of the rows, a chunk of tickets at a time."""

    def __init__(self, tickets: int, pg: bool) -> None:
        self.rng = random.Random(19)
        self.tickets = tickets
        self.pg = pg
        self.ids = {"tickets": 0, "ticket_events": 0, "promises": 0, "outbox": 0}
        self.numbers = [0] * len(WORKSPACE_SHARES)
        self.start = (NOW - timedelta(days=DAYS)).timestamp()

    def ts(self, epoch: float | None) -> str | None:
        """An instant as the column stores it (naive UTC text on SQLite)."""
        if epoch is None:
            return None
        text = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        return text + "+00" if self.pg else text

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def people(self) -> list[tuple]:
        """(id, workspace_id, external_id, display_name, role) for every workspace."""
        rows, pid = [], 0
        self.agents, self.requesters = [], []
        for ws in range(1, len(WORKSPACE_SHARES) + 1):
            agents, requesters = [], []
            for n in range(AGENTS + REQUESTERS):
                pid += 1
                role = "agent" if n < AGENTS else "requester"
                rows.append((pid, ws, f"U{ws}-{n}", f"Person {ws}-{n}", role))
                (agents if n < AGENTS else requesters).append(pid)
            self.agents.append(agents)
            self.requesters.append(requesters)
        return rows

    def chunk(self, count: int) -> dict[str, list[tuple]]:
        """The rows of ``count`` more tickets, every table."""
        rng, ts = self.rng, self.ts
        out: dict[str, list[tuple]] = {table: [] for table in TABLES}
        now = NOW.timestamp()
        for _ in range(count):
            ws_index = 0 if rng.random() < WORKSPACE_SHARES[0] else rng.randint(1, 2)
            ws = ws_index + 1
            self.numbers[ws_index] += 1
            tid = self._id("tickets")
            created = self.start + rng.random() * (now - self.start)
            r = rng.random()
            priority = next(p for p, share in _cumulative(PRIORITIES) if r <= share)
            requester = rng.choice(self.requesters[ws_index])
            age = now - created
            # A ticket nobody took yet is a recent one: an old desk's queue is short.
            owner = None if age < 2 * 86400 and rng.random() < 0.3 else \
                rng.choice(self.agents[ws_index])
            channel = f"C{ws}-{rng.randrange(CHANNELS)}"
            first = created + rng.expovariate(1 / 7200) if owner and rng.random() < 0.97 \
                else None
            if first is not None and first > now:
                first = None
            resolved = closed = None
            status = "open" if owner is None else "in_progress"
            events = [("opened", requester, "help", "{}", created)]
            self_solved = rng.random() < 0.03
            if self_solved:
                closed = created + rng.expovariate(1 / 900)
                if closed < now:
                    status = "closed"
                    events.append(("self_solved", requester, "", '{"article": 1}', closed))
                    events.append(("status", requester, "closed", '{"previous": "open"}',
                                   closed))
                else:
                    closed = None
            elif first is not None:
                events.append(("status", owner, "in_progress", '{"previous": "new"}', first))
                events.append(("reply", owner, "on it", "{}", first))
                if rng.random() < (0.995 if age > 7 * 86400 else 0.7) and age > 3600:
                    resolved = first + rng.expovariate(1 / 36000)
                    if resolved < now:
                        status = "resolved"
                        events.append(("status", owner, "resolved",
                                       '{"previous": "in_progress"}', resolved))
                        if rng.random() < 0.05:  # reopened once, then resolved again
                            again = resolved + 1800
                            events.append(("status", requester, "in_progress",
                                           '{"previous": "resolved"}', again))
                            resolved = again + rng.expovariate(1 / 7200)
                            events.append(("status", owner, "resolved",
                                           '{"previous": "in_progress"}', resolved))
                        if resolved < now and rng.random() < 0.97:
                            closed = resolved + rng.expovariate(1 / 14400)
                            if closed < now:
                                status = "closed"
                                events.append(("status", requester, "closed",
                                               '{"previous": "resolved"}', closed))
                                if rng.random() < 0.35:
                                    rating = rng.choices((1, 2, 3, 4, 5),
                                                         (3, 4, 10, 33, 50))[0]
                                    events.append(("feedback", requester, str(rating),
                                                   f'{{"rating": {rating}, "owner_id": '
                                                   f'{owner}}}', closed + 60))
                                    if rng.random() < 0.15:
                                        events.append(("feedback", requester, "Thanks!",
                                                       f'{{"comment": "Thanks!", "owner_id":'
                                                       f' {owner}}}', closed + 120))
                            else:
                                closed = None
                    else:
                        resolved = None
            out["tickets"].append((
                tid, ws, self.numbers[ws_index], requester, owner, status, priority,
                "Generated ticket", "help", channel, False, ts(created),
                ts(max(x for x in (created, first, resolved, closed) if x is not None)),
                ts(first), ts(resolved), ts(closed)))
            for kind, author, body, data, at in events:
                if at <= now:
                    out["ticket_events"].append((self._id("ticket_events"), tid, kind, author,
                                                 body, data, ts(at)))
            self._promises(out, ws, tid, owner, created, first, resolved, now)
        return out

    def _promises(self, out, ws, tid, owner, created, first, resolved, now) -> None:
        rng, ts = self.rng, self.ts
        plan = [("first_response", None, created, created + 8 * 3600, first)]
        if first is not None:
            for n in range(rng.choice((0, 1, 1, 2, 3))):
                made = first + n * 7200
                plan.append((rng.choice(("follow_up", "status_update")), owner, made,
                             made + 4 * 3600, resolved))
        for kind, who, made, due, done in plan:
            if made > now:
                continue
            pid = self._id("promises")
            cover = None
            r = rng.random()
            if rng.random() < 0.08:
                status, resolution, at = "cancelled", None, min(made + 600, now)
            elif due > now and (done is None or done > now):
                status, resolution, at = "pending", None, None
            elif done is not None and done <= due:
                status, resolution, at = "kept", "person", done
            elif done is not None and r < 0.3:
                status, resolution, at = "kept", "late", min(done, due + 1800)
            else:
                status, resolution, at = "missed", "bot", due
                sent = due + (rng.uniform(1, 60) if r < 0.9 else rng.uniform(180, 3600))
                dead = rng.random() < 0.02
                cover = self._id("outbox")
                out["outbox"].append((cover, ws, tid, "slack", "post", "{}",
                                      "dead" if dead else "sent", ts(due), 1, ts(due),
                                      None if dead else ts(sent)))
                if dead:
                    resolution = "failed"
            out["promises"].append((pid, ws, tid, kind, who, "", ts(made), ts(due), status,
                                    resolution, ts(at), 0, 0, 0, cover))
        if resolved is not None and resolved <= now:
            out["promises"].append((self._id("promises"), ws, tid, "awaiting_confirmation",
                                    owner, "", ts(resolved), ts(resolved + 8 * 3600), "kept",
                                    "person", ts(min(resolved + 3600, now)), 0, 0, 0, None))


def _cumulative(pairs):
    total = 0.0
    for name, share in pairs:
        total += share
        yield name, total


# --------------------------------------------------------------------------- loading

async def load_sqlite(path: str, tickets: int) -> float:
    db = Database.from_url(f"sqlite:///{path}")
    await migrate.upgrade(db.engine)
    await db.dispose()
    started = time.perf_counter()
    history = History(tickets, pg=False)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("INSERT INTO workspaces (id, platform, external_id, name, settings_json, "
                "next_ticket_number, kb_revision, created_at) VALUES "
                "(1, 'slack', 'T1', 'Big', '{}', 1, 0, '2025-01-01 00:00:00.000000'), "
                "(2, 'discord', 'G2', 'Two', '{}', 1, 0, '2025-01-01 00:00:00.000000'), "
                "(3, 'slack', 'T3', 'Three', '{}', 1, 0, '2025-01-01 00:00:00.000000')")
    con.executemany("INSERT INTO people (id, workspace_id, external_id, display_name, role, "
                    "created_at) VALUES (?, ?, ?, ?, ?, '2025-01-01 00:00:00.000000')",
                    history.people())
    done = 0
    while done < tickets:
        count = min(CHUNK, tickets - done)
        for table, rows in history.chunk(count).items():
            columns = TABLES[table]
            con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                            f"({', '.join('?' for _ in columns)})", rows)
        con.commit()
        done += count
    # The report outcomes of the status lines, as the desk writes them with each line.
    con.execute(report_outcomes_from_timeline())
    con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return time.perf_counter() - started


async def load_postgres(url: str, tickets: int) -> tuple[float, str]:
    import asyncpg
    version = await common.prepare_postgres(url, "public")
    db = Database.from_url(url)
    await migrate.upgrade(db.engine)
    await db.dispose()
    started = time.perf_counter()
    history = History(tickets, pg=True)
    con = await asyncpg.connect(common.postgres_dsn(url))
    try:
        await con.execute(
            "INSERT INTO workspaces (id, platform, external_id, name, settings_json, "
            "next_ticket_number, kb_revision, created_at) VALUES "
            "(1, 'slack', 'T1', 'Big', '{}', 1, 0, now()), "
            "(2, 'discord', 'G2', 'Two', '{}', 1, 0, now()), "
            "(3, 'slack', 'T3', 'Three', '{}', 1, 0, now())")
        await con.copy_records_to_table(
            "people", columns=("id", "workspace_id", "external_id", "display_name", "role",
                               "created_at"),
            records=[(*row, NOW) for row in history.people()])
        done = 0
        while done < tickets:
            count = min(CHUNK, tickets - done)
            chunk = history.chunk(count)
            for attempt in range(5):
                try:
                    async with con.transaction():  # a chunk is all in or all out
                        await _copy_chunk(con, chunk)
                    break
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                    # On a shared server another session may end ours, or restart the
                    # server (other work's tests do): connect again and redo the chunk.
                    common.say(f"postgres: the connection was lost ({error}); "
                               f"retrying a chunk (attempt {attempt + 2})")
                    con = await _connect(url)
            else:
                raise RuntimeError("postgres: could not load a chunk after 5 attempts")
            done += count
        for attempt in range(5):
            try:
                # The report outcomes of the status lines, as the desk writes them.
                async with con.transaction():
                    await con.execute("TRUNCATE report_outcomes")
                    await con.execute(report_outcomes_from_timeline())
                break
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                con = await _connect(url)
        for attempt in range(5):
            try:
                for table in ("workspaces", "people", *TABLES):
                    await con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', "
                                      f"'id'), (SELECT max(id) FROM {table}))")
                await con.execute("VACUUM ANALYZE")
                break
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                con = await _connect(url)
    finally:
        await con.close()
    return time.perf_counter() - started, version


REPORT_INDEX_PREFIXES = ("ix_tickets_report", "ix_ticket_events_reopened",
                         "ix_ticket_events_rated", "ix_ticket_events_commented",
                         "ix_ticket_events_self_solved", "ix_promises_report")


async def rebuild_report_indexes(url: str) -> float:
    """``--reuse``: on a database an earlier run loaded, bring the schema to the newest
    migration, then drop the report indexes and build them again as the models in force
    define them, so a change to the indexes is measured without loading a million
    tickets again. (Until rollup19 this went back to revision 0010 and up again, which
    broke once later revisions created tables.)"""
    from sqlalchemy import text
    from bot.storage.tables import Base
    db = Database.from_url(url)
    started = time.perf_counter()
    try:
        await migrate.upgrade(db.engine)
        indexes = [index for table in ("tickets", "ticket_events", "promises")
                   for index in Base.metadata.tables[table].indexes
                   if index.name.startswith(REPORT_INDEX_PREFIXES)]
        async with db.engine.begin() as connection:
            for index in indexes:
                await connection.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
                await connection.run_sync(index.create)
        async with db.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    finally:
        await db.dispose()
    return time.perf_counter() - started


async def _connect(url: str):
    """A new connection, waiting (up to two minutes) while the server restarts."""
    import asyncpg
    for _ in range(60):
        await asyncio.sleep(2)
        try:
            return await asyncpg.connect(common.postgres_dsn(url))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            continue
    raise RuntimeError("postgres: no connection for two minutes")


async def _copy_chunk(con, chunk: dict[str, list[tuple]]) -> None:
    """COPY one chunk's rows, table by table, as PostgreSQL's text format."""
    for table, rows in chunk.items():
        buffer = io.BytesIO()
        text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        for row in rows:
            text.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        text.flush()
        buffer.seek(0)
        await con.copy_to_table(table, source=buffer, columns=TABLES[table], format="text")


# --------------------------------------------------------------------------- measuring

def filters() -> list[tuple[str, ReportFilter]]:
    """The filter mix every page is measured with (the big workspace)."""
    end = datetime.combine(NOW.date() + timedelta(days=1), clock_time(0), tzinfo=timezone.utc)
    last30, last7 = end - timedelta(days=30), end - timedelta(days=7)
    return [("30d", ReportFilter(1, last30, end)),
            ("7d", ReportFilter(1, last7, end)),
            ("30d P2", ReportFilter(1, last30, end, priority="P2")),
            ("30d agent", ReportFilter(1, last30, end, agent_id=3)),
            ("30d channel", ReportFilter(1, last30, end, channel_id="C1-2"))]


async def measure(url: str, repeat: int, explain: list[str] | None) -> dict[str, list[float]]:
    db = Database.from_url(url)
    sla = SlaPolicy.default()
    timings: dict[str, list[float]] = {page: [] for page in PAGES}
    try:
        for page, parts in PAGES.items():  # warm the caches once
            async with db.reading() as uow:
                await compute_figures(uow, filters()[0][1], NOW, calendar=CALENDAR, sla=sla,
                                      parts=parts)
        for _ in range(repeat):
            for page, parts in PAGES.items():
                for _, filt in filters():
                    for _attempt in range(30):
                        started = time.perf_counter()
                        try:
                            async with db.reading() as uow:
                                await compute_figures(uow, filt, NOW, calendar=CALENDAR,
                                                      sla=sla, parts=parts)
                        except DBAPIError:
                            # A shared server restarted under us: not a figure; again.
                            await asyncio.sleep(2)
                            continue
                        timings[page].append((time.perf_counter() - started) * 1000)
                        break
        if explain is not None:
            try:
                await _explain(db, explain)
            except DBAPIError as error:  # a restart of a shared server: the plans are lost
                explain.append(f"(the plans could not be read: {error.__class__.__name__})\n")
    finally:
        await db.dispose()
    return timings


async def _explain(db: Database, out: list[str]) -> None:
    """Each distinct query of each page (30-day filter), with its plan."""
    pg = db.engine.dialect.name == "postgresql"
    for page, parts in PAGES.items():
        seen: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append((statement, parameters))

        event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
        try:
            async with db.reading() as uow:
                await compute_figures(uow, filters()[0][1], NOW, calendar=CALENDAR,
                                      sla=SlaPolicy.default(), parts=parts)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
        out.append(f"### {db.engine.dialect.name}: page {page}\n")
        for statement, parameters in seen:
            prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if pg else "EXPLAIN QUERY PLAN "
            async with db.reading() as uow:
                connection = await uow.session.connection()
                rows = (await connection.exec_driver_sql(prefix + statement,
                                                         parameters)).all()
            plan = "\n".join(str(row[0]) if pg else f"{row[1]}|{row[2]}|{row[3]}" for row in rows)
            out.append("```sql\n" + " ".join(statement.split()) + "\n```\n```\n" + plan
                       + "\n```\n")


async def run(name: str, url: str, tickets: int, repeat: int,
              explain: list[str] | None, reuse: bool = False) -> dict:
    if reuse:
        load_s = await rebuild_report_indexes(url)
        version = sqlite3.sqlite_version if name == "sqlite" else await _pg_version(url)
        common.say(f"{name}: reusing the {tickets:,} tickets loaded before; report indexes "
                   f"rebuilt in {load_s:.0f} s")
    elif name == "sqlite":
        load_s = await load_sqlite(url.removeprefix("sqlite:///"), tickets)
        version = sqlite3.sqlite_version
    else:
        load_s, version = await load_postgres(url, tickets)
    if not reuse:
        common.say(f"{name}: {tickets:,} tickets generated and loaded in {load_s:.0f} s")
    timings = await measure(url, repeat, explain)
    rows = []
    by_page = {}
    for page, values in timings.items():
        p99 = common.percentile(values, 99)
        by_page[page] = round(p99, 1)
        rows.append((page, len(values), common.fmt(common.percentile(values, 50), 1),
                     common.fmt(p99, 1), common.fmt(max(values), 1)))
    common.say(common.table(("page", "runs", "p50 ms", "p99 ms", "max ms"), rows,
                            title=f"{name} {version}: dashboard pages over {tickets:,} tickets"))
    return {"bench": "reports", "db": name, "tickets": tickets,
            "page_p99_ms": max(by_page.values()), "by_page": by_page,
            "load_s": round(load_s, 1), "reused": reuse, "repeat": repeat,
            "filters": len(filters()),
            "version": version, "load_average": common.load_average()}


async def _pg_version(url: str) -> str:
    import asyncpg
    con = await asyncpg.connect(common.postgres_dsn(url))
    try:
        return await con.fetchval("SHOW server_version")
    finally:
        await con.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of every page with every filter (5 filters each)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "HELPDESK_BENCH_REPORTS_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--explain", type=Path, help="write each query's plan here")
    parser.add_argument("--sqlite-path", help="where to build the SQLite file "
                                              "(default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the databases an earlier run loaded (the same "
                             "--tickets; --sqlite-path for SQLite), rebuilding only the "
                             "report indexes")
    args = parser.parse_args()
    if args.reuse and args.db != "postgres" and not args.sqlite_path:
        parser.error("--reuse needs --sqlite-path for SQLite")
    common.say(common.describe_machine(common.machine()))
    explain: list[str] | None = [] if args.explain else None
    results = []
    if args.db in ("sqlite", "both"):
        path = args.sqlite_path or f"{tempfile.mkdtemp(prefix='reports-bench-')}/desk.sqlite3"
        results.append(await run("sqlite", f"sqlite:///{path}", args.tickets, args.repeat,
                                 explain, args.reuse))
    if args.db in ("postgres", "both"):
        results.append(await run("postgres", args.postgres_url, args.tickets, args.repeat,
                                 explain, args.reuse))
    if explain is not None:
        args.explain.write_text("\n".join(explain), encoding="utf-8")
    for result in results:
        common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
