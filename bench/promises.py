#!/usr/bin/env python
"""Benchmark of the promise ledger, side by side with APScheduler's own job store.

    .venv/bin/python bench/promises.py [--db sqlite|postgres|both] [--open 100000]
                                       [--due 10000] [--quick] [--mix | --follow-up-only]

The promises are a Monday 09:00 mix by default (``--mix``): every kind the desk states,
each on a ticket in the state that kind has in the desk, in the shares of ``MONDAY_MIX``,
priorities mixed, every workspace with a triage channel (so covers queue ticket cards).
``--follow-up-only`` (or ``--no-mix``) is the earlier benchmark: only ``follow_up``
promises on owned in-progress P3 tickets, no triage channel, for comparing with runs of
older commits like for like.

For each database, on a fresh schema (``bot.storage.migrate.upgrade``):

1. creating N open promises on N tickets through ``uow.promises.make`` (1,000 per unit of
   work), due in about 30 days so they stay open;
2. the idle tick (``Ticker.tick()``, one probe for sweeper and dispatcher) at 1%, 10%, 100% of N
   open promises, plus EXPLAIN of the claim and warn statements the code really sends;
3. lateness when ``--due`` promises fall due at once under the real ``Ticker`` (1 s tick)
   with the real ``PromiseSweeper`` and ``OutboxDispatcher`` and an adapter that accepts
   at once and notes when each message arrives; the due time is set ``--notice`` seconds
   ahead (default 20.5), and the sweeper prepares covers ``--prepare-seconds`` ahead as
   the desk does by default (30; 0 turns that off);
4. peak RSS after each phase (each database runs in its own child process);
5. a restart: promises fall due while no sweeper runs, then one starts; and the same
   reminders as APScheduler 3 ``SQLAlchemyJobStore`` date jobs: adding them, a burst while
   running, and a restart with default misfire settings.

PostgreSQL: ``HELPDESK_BENCH_POSTGRES_URL`` (default
postgresql://postgres@127.0.0.1:5432/helpdesk_bench); the database is created when missing
and its ``public`` schema is emptied. APScheduler needs a synchronous driver there
(``pip install "psycopg[binary]"``, or psycopg2 / pg8000); without one that part is skipped.

The last lines of the output are one JSON object per line per database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common as common  # noqa: E402
from bench._common import say  # noqa: E402

RESULT_MARK = "@@bench-result "
PLATFORM = "bench"
APS_SCHEMA = "apscheduler_bench"
CREATE_BATCH = 1_000
WORKSPACES = 10
AGENTS_PER_WORKSPACE = 20
REQUESTERS_PER_WORKSPACE = 1_000
FAR = timedelta(days=30)
LEADS_PER_WORKSPACE = 2  # only with --mix: a P1's first miss escalates to the leads

# The promises of a desk at 09:00 on a Monday, when everything promised "by opening time"
# falls due at once: the share of each kind (of the burst, of the open population and of
# the restart phase's promises). docs/performance.md ("The Monday mix") says why.
MONDAY_MIX: tuple[tuple[str, float], ...] = (
    ("first_response", 0.35),         # the weekend's new tickets: "a reply by Monday 09:00"
    ("status_update", 0.22),          # update cadences that ran out over the weekend
    ("follow_up", 0.18),              # "I'll get back to you Monday morning"
    ("resolution", 0.12),             # resolution targets counted in business time
    ("awaiting_requester", 0.08),     # nudges of tickets put on hold for the requester
    ("awaiting_confirmation", 0.05),  # reminders to confirm Friday's resolutions
)
FOLLOW_UP_ONLY: tuple[tuple[str, float], ...] = (("follow_up", 1.0),)
# Mostly P3 and P2, some P1 and P4 (with --mix; --follow-up-only is all P3).
MONDAY_PRIORITIES: tuple[tuple[str, float], ...] = (
    ("P3", 0.55), ("P2", 0.27), ("P4", 0.12), ("P1", 0.06))
# The ticket each kind of promise sits on in the desk (bot/desk/features): its status and
# whether it has an owner. Intake acknowledges a new ticket at once (new -> open,
# intake.py), so a first response is owed on an open, unowned ticket; `/ticket wait <n>
# requester` sets waiting_requester (triage.py); `/ticket resolve` sets resolved and
# asks for the requester's confirmation (resolution.py).
TICKET_STATE: dict[str, tuple[str, bool]] = {
    "first_response": ("open", False),
    "follow_up": ("in_progress", True),
    "status_update": ("in_progress", True),
    "resolution": ("in_progress", True),
    "awaiting_requester": ("waiting_requester", True),
    "awaiting_confirmation": ("resolved", True),
}
# Kinds whose lapse is a nudge or reminder to the requester: no late wording exists.
WAITING_KINDS = frozenset({"awaiting_requester", "awaiting_confirmation"})
FOLLOW_UP_TEXT = "I'll check the VPN gateway logs and get back to you"


def shares(total: int, mix: tuple[tuple[str, float], ...]) -> dict[str, int]:
    """``total`` split by the shares of ``mix`` (largest remainder, so they add up)."""
    weight = sum(share for _, share in mix)
    exact = [(name, total * share / weight) for name, share in mix]
    counts = {name: int(value) for name, value in exact}
    left = total - sum(counts.values())
    for name, value in sorted(exact, key=lambda e: e[1] - int(e[1]), reverse=True)[:left]:
        counts[name] += 1
    return counts


def spread(total: int, mix: tuple[tuple[str, float], ...], rng: random.Random) -> list[str]:
    """``total`` names in the shares of ``mix``, shuffled."""
    names = [name for name, count in shares(total, mix).items() for _ in range(count)]
    rng.shuffle(names)
    return names


@dataclass(frozen=True)
class Scale:
    """How big this run is."""

    open: int
    due: int
    ticks: int
    long_outage: int
    aps_budget_s: float

    @property
    def stages(self) -> list[int]:
        """Open-promise counts at which the idle tick is measured."""
        return sorted({s for s in (self.open // 100, self.open // 10, self.open) if s > 0})


# ============================================================================ ledger


class TimingAdapter:
    """Accepts every send at once and notes the wall time it arrived."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, Any, str]] = []
        self.requester_threads: Counter[str] = Counter()

    async def start(self, dispatch) -> None:  # noqa: D102
        pass

    async def stop(self) -> None:  # noqa: D102
        pass

    async def send(self, message, *, idempotency_key: str, attempt: int = 1,
                   **_more):  # noqa: D102
        from bot.core import Delivery
        self.arrivals.append((time.time(), message, idempotency_key))
        if message.audience == "requester" and message.thread_id:
            self.requester_threads[message.thread_id] += 1
        return Delivery(f"m{len(self.arrivals)}", message.channel_id, message.thread_id)


class CountingHandler(logging.Handler):
    """Counts log records by (logger, level) and prints only the first few of each."""

    def __init__(self, show: int = 3) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.show = show

    def emit(self, record: logging.LogRecord) -> None:  # noqa: D102
        key = (record.name, record.levelname)
        self.counts[key] += 1
        if self.counts[key] <= self.show:
            sys.stderr.write(f"  [log {record.levelname} {record.name}] {record.getMessage()}\n")


def connect_outbox(db, dispatcher) -> None:
    """Give the units of work the dispatcher, as the composition root does
    (``Database.deliver_outbox_to``). Commits before 9a449a9 have no such call: there the
    dispatcher's constructor connected itself, so this benchmark still runs on them."""
    if hasattr(db, "deliver_outbox_to"):
        db.deliver_outbox_to(dispatcher)


def card_renderer(desk) -> dict:
    """The dispatcher's card renderer, as the composition root gives it (commits before
    the cards were drawn when sent have none: there a card row carries its card)."""
    try:
        from bot.desk.cards import CardRenderer
    except ImportError:
        return {}
    return {"render_cards": CardRenderer(desk)}


def rss_row(phase: str) -> list:
    """A row for the memory table."""
    return [phase, common.current_rss_mb(), common.peak_rss_mb()]


async def postgres_version(url: str) -> str | None:
    """The server's version, or None when it cannot be reached. A missing database is
    not unreachable: the run creates it (``common.prepare_postgres``)."""
    import asyncpg
    try:
        try:
            conn = await asyncpg.connect(common.postgres_dsn(url), timeout=5)
        except asyncpg.InvalidCatalogNameError:
            conn = await asyncpg.connect(common.postgres_dsn(url, "postgres"), timeout=5)
    except Exception:
        return None
    try:
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


async def seed(db, n: int, mix: bool) -> list[tuple[int, int, int | None, str, str]]:
    """Workspaces, people and ``n`` tickets, inserted in bulk. Returns (ticket id,
    workspace id, owner id, thread id, kind of its promise) per ticket, in id order.

    Without ``mix``: every ticket in progress, owned, P3, and no triage channel, as the
    benchmark always had. With it: each ticket in the state its promise's kind has in the
    desk (``TICKET_STATE``), in the shares of ``MONDAY_MIX``, priorities mixed, two leads
    per workspace, and every workspace's triage channel set as ``/helpdesk triage`` does
    (``uow.workspaces.set_channel``), so covers queue ticket cards. Every ticket's card
    was posted long ago (``triage_message_id``), so a new card edits it."""
    from sqlalchemy import insert, select, update

    from bot.storage.tables import PersonRow, TicketRow, WorkspaceRow

    plan = random.Random(20260309)  # a Monday
    kinds = spread(n, MONDAY_MIX, plan) if mix else ["follow_up"] * n
    priorities = spread(n, MONDAY_PRIORITIES, plan) if mix else ["P3"] * n
    now = db.clock.now()
    spaces = min(WORKSPACES, n)
    requesters = min(REQUESTERS_PER_WORKSPACE, max(1, math.ceil(n / spaces)))
    async with db.unit_of_work() as uow:
        s = uow.session
        await s.execute(insert(WorkspaceRow), [
            dict(platform=PLATFORM, external_id=f"T-bench-{w}", name=f"Bench {w}",
                 settings_json="{}", next_ticket_number=1, created_at=now)
            for w in range(spaces)])
        ws_ids = list((await s.execute(select(WorkspaceRow.id).order_by(WorkspaceRow.id))).scalars())
        if mix:
            for ws in ws_ids:
                await uow.workspaces.set_channel(ws, "triage", f"C-triage-{ws}", now,
                                                 only_one=True)
        people = []
        for w, ws in enumerate(ws_ids):
            people += [dict(workspace_id=ws, external_id=f"agent-{w}-{a}",
                            display_name=f"Agent {w}-{a}", role="agent", created_at=now)
                       for a in range(AGENTS_PER_WORKSPACE)]
            people += [dict(workspace_id=ws, external_id=f"user-{w}-{r}",
                            display_name=f"User {w}-{r}", role="requester", created_at=now)
                       for r in range(requesters)]
            if mix:
                people += [dict(workspace_id=ws, external_id=f"lead-{w}-{l}",
                                display_name=f"Lead {w}-{l}", role="lead", created_at=now)
                           for l in range(LEADS_PER_WORKSPACE)]
        for i in range(0, len(people), 5_000):
            await s.execute(insert(PersonRow), people[i:i + 5_000])
        agents: dict[int, list[int]] = defaultdict(list)
        users: dict[int, list[int]] = defaultdict(list)
        for pid, ws, role in (await s.execute(
                select(PersonRow.id, PersonRow.workspace_id, PersonRow.role)
                .order_by(PersonRow.id))).all():
            if role in ("agent", "requester"):
                (agents if role == "agent" else users)[ws].append(pid)
        numbers: Counter[int] = Counter()
        batch = []
        for i in range(n):
            ws = ws_ids[i % spaces]
            numbers[ws] += 1
            k = numbers[ws]
            status, owned = TICKET_STATE[kinds[i]]
            answered = kinds[i] != "first_response"
            batch.append(dict(
                workspace_id=ws, number=k, requester_id=users[ws][k % len(users[ws])],
                owner_id=agents[ws][k % len(agents[ws])] if owned else None, status=status,
                priority=priorities[i],
                subject=f"Laptop will not join the VPN ({i})",
                first_message="Since this morning my laptop cannot connect to the VPN.",
                channel_id=f"C-help-{ws}", thread_id=f"th-{i}", source_message_id=f"th-{i}",
                triage_channel_id=f"C-triage-{ws}", triage_message_id=f"card-{i}",
                in_a_hurry=False, created_at=now - timedelta(days=1), updated_at=now,
                first_response_at=now - timedelta(hours=20) if answered else None,
                resolved_at=now - timedelta(hours=18) if status == "resolved" else None))
            if len(batch) == 5_000:
                await s.execute(insert(TicketRow), batch)
                batch = []
        if batch:
            await s.execute(insert(TicketRow), batch)
        for ws in ws_ids:
            await s.execute(update(WorkspaceRow).where(WorkspaceRow.id == ws)
                            .values(next_ticket_number=numbers[ws] + 1))
        rows = (await s.execute(select(TicketRow.id, TicketRow.workspace_id, TicketRow.owner_id,
                                       TicketRow.thread_id).order_by(TicketRow.id))).all()
    # Ticket i has thread th-i.
    return [(*row, kinds[int(row[3][3:])]) for row in rows]


async def grow(db, tickets, start: int, stop: int, promises: list[tuple[int, int]]) -> float:
    """Make open promises for tickets[start:stop] through ``uow.promises.make``,
    CREATE_BATCH per unit of work, each as the desk makes a promise of its kind (owner,
    text, warning time); returns the seconds it took."""
    from bot.domain.promises import PromiseKind

    began = time.perf_counter()
    for first in range(start, stop, CREATE_BATCH):
        async with db.unit_of_work() as uow:
            now = db.clock.now()
            for i in range(first, min(first + CREATE_BATCH, stop)):
                ticket_id, ws, owner, _thread, kind = tickets[i]
                # Spread over a day so due times are distinct, as real ones are.
                due = now + FAR + timedelta(seconds=i % 86_400)
                # Intake's first-response promise has no owner; the waits (triage.py,
                # resolution.py) have no warning time: nobody at the desk can keep them.
                promise = await uow.promises.make(
                    ws, ticket_id, PromiseKind(kind), due, now,
                    owner_id=None if kind == "first_response" else owner,
                    text=FOLLOW_UP_TEXT if kind == "follow_up" else "",
                    warn_at=None if kind in WAITING_KINDS else due - timedelta(hours=6))
                promises.append((promise.id, ticket_id))
    return time.perf_counter() - began


async def analyze_postgres(db) -> None:
    """Refresh planner statistics (autovacuum would do this in production)."""
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
        await conn.commit()


async def idle_ticks(db, desk, ticks: int, gap: float) -> dict[str, Any]:
    """Median/p99 of a full idle tick (``Ticker.tick``, what the running desk does every
    second), and of its parts. Ticks are ``gap`` seconds apart, as real ones are (1 s):
    back-to-back calls are about twice as fast, because the worker threads and the CPU
    are still warm, and would flatter the figure."""
    from sqlalchemy import text

    from bot.ledger.sweeper import PromiseSweeper
    from bot.outbox.dispatcher import OutboxDispatcher
    from bot.ticker import Ticker

    sweeper = PromiseSweeper(db, desk)
    dispatcher = OutboxDispatcher(db, {PLATFORM: TimingAdapter()})
    connect_outbox(db, dispatcher)
    ticker = Ticker(1.0, dispatcher, sweeper)  # never started: we call its tick ourselves

    async def tick() -> None:
        await ticker.tick()
        if dispatcher._wake.is_set():  # a cover's commit or a due row would set it
            raise RuntimeError("the idle tick found work: the data set is wrong")

    async def old_tick() -> None:  # before: the sweeper and the dispatcher probed apart
        await sweeper.sweep()
        await dispatcher.drain()

    async def floor() -> None:
        async with db.unit_of_work() as uow:
            await uow.session.execute(text("SELECT 1"))

    for _ in range(10):
        await tick()
    full, hot = [], []
    for _ in range(ticks):
        await asyncio.sleep(gap)
        began = time.perf_counter()
        await tick()
        full.append((time.perf_counter() - began) * 1000)
    for _ in range(max(ticks // 4, 20)):
        began = time.perf_counter()
        await tick()
        hot.append((time.perf_counter() - began) * 1000)
    parts: dict[str, list[float]] = defaultdict(list)
    for _ in range(max(ticks // 8, 20)):
        for name, call in (("warn", sweeper.warn), ("claim", sweeper.claim),
                           ("drain", dispatcher.drain), ("old tick", old_tick),
                           ("SELECT 1 uow", floor)):
            await asyncio.sleep(gap / 2)
            began = time.perf_counter()
            await call()
            parts[name].append((time.perf_counter() - began) * 1000)
    return {"tick": common.summarize(full), "back_to_back": common.summarize(hot),
            "parts": {k: common.summarize(v) for k, v in parts.items()}}


async def explain(db, desk) -> dict[str, list[str]]:
    """EXPLAIN the claim and warn statements exactly as the sweeper and dispatcher send them
    (captured from one real tick, run again with their own parameters)."""
    from sqlalchemy import event

    from bot.ledger.sweeper import PromiseSweeper
    from bot.outbox.dispatcher import OutboxDispatcher

    captured: dict[str, tuple[str, Any]] = {}

    def capture(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split())
        if text.startswith("SELECT (SELECT min("):
            captured.setdefault("tick probe (bot/storage/due.py)", (statement, parameters))
            return
        if "IN (SELECT" not in text:
            return
        if text.startswith("UPDATE promises SET warned_at"):
            captured.setdefault("promise warn (PromiseSweeper.warn)", (statement, parameters))
        elif text.startswith("UPDATE promises"):
            captured.setdefault("promise claim (PromiseSweeper.claim)", (statement, parameters))
        elif text.startswith("UPDATE outbox"):
            captured.setdefault("outbox claim (OutboxDispatcher.drain)", (statement, parameters))

    sync_engine = db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        # An idle tick sends only the probe now, so run each statement on its own (with
        # nothing due they change nothing).
        from bot.storage.due import what_is_due

        sweeper = PromiseSweeper(db, desk)
        await what_is_due(db, [PLATFORM])
        await sweeper.warn()
        await sweeper.claim()
        # The dispatcher's claim, as a tick that saw due rows and expired leases runs it.
        dispatcher = OutboxDispatcher(db, {PLATFORM: TimingAdapter()})
        dispatcher.wake(leases_expired=True)
        await dispatcher.drain(probe=False)
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    plans: dict[str, list[str]] = {}
    postgres = db.engine.dialect.name == "postgresql"
    for name, (statement, parameters) in captured.items():
        async with db.engine.connect() as conn:
            if postgres:
                result = await conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                lines = [r[0] for r in result.all()]
            else:
                result = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                lines = _sqlite_plan(result.all())
            await conn.rollback()
        plans[name] = [" ".join(statement.split())] + lines
    return plans


def _sqlite_plan(rows) -> list[str]:
    depth = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + "`--" + detail)
    return lines


def pick(promises: list[tuple[int, int]], kind_of: dict[int, str],
         mix: tuple[tuple[str, float], ...], scale: Scale) -> tuple[list, list, list]:
    """The burst's, the restart's and the long outage's promises: disjoint, random over
    the table, each in the shares of ``mix``. (With one kind this is the earlier
    benchmark's choice exactly: one shuffle, then three slices.)"""
    rng = random.Random(20240611)
    pool = list(promises)
    rng.shuffle(pool)
    left: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for promise in pool:
        left[kind_of[promise[1]]].append(promise)
    sets = []
    for total in (scale.due, scale.due, scale.long_outage):
        chosen = []
        for kind, count in shares(total, mix).items():
            if len(left[kind]) < count:
                raise SystemExit(f"too few open {kind} promises for the phases: raise --open")
            chosen += left[kind][:count]
            del left[kind][:count]
        sets.append(sorted(chosen))
    return sets[0], sets[1], sets[2]


async def set_due(db, promise_ids: list[int], due_at: datetime) -> float:
    """Move these promises' due time (and clear their warning time); returns seconds."""
    from sqlalchemy import update

    from bot.storage.tables import PromiseRow

    began = time.perf_counter()
    async with db.unit_of_work() as uow:
        for i in range(0, len(promise_ids), 5_000):
            await uow.session.execute(
                update(PromiseRow).where(PromiseRow.id.in_(promise_ids[i:i + 5_000]))
                .values(due_at=due_at, warn_at=None))
    return time.perf_counter() - began


async def wait_for(adapter: TimingAdapter, threads: set[str], timeout: float) -> bool:
    """Wait until every thread in ``threads`` got a requester message; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(adapter.requester_threads[t] for t in threads):
            return True
        await asyncio.sleep(0.05)
    return False


async def statuses(db, promise_ids: list[int]) -> dict[int, str]:
    """Each promise's status (with its resolution, e.g. ``missed/bot``)."""
    from sqlalchemy import select

    from bot.storage.tables import PromiseRow

    found: dict[int, str] = {}
    async with db.unit_of_work() as uow:
        for i in range(0, len(promise_ids), 5_000):
            for pid, status, resolution in (await uow.session.execute(
                    select(PromiseRow.id, PromiseRow.status, PromiseRow.resolution)
                    .where(PromiseRow.id.in_(promise_ids[i:i + 5_000])))).all():
                found[pid] = f"{status}/{resolution}" if resolution else status
    return found


class Wording:
    """Which of the desk's ``lapse.*`` templates a requester's message was rendered from
    (None: none of them), and whether that wording owns its lateness (a ``*_late``
    template). Read from the desk's own templates, so it holds for any commit's wording."""

    def __init__(self, desk) -> None:
        import re

        self.patterns: list[tuple[str, Any]] = []
        try:
            for key in desk.templates.keys():
                raw = desk.templates.raw(key)
                if key.startswith("lapse.") and isinstance(raw, str):
                    pieces = re.split(r"\{[^{}]*\}", raw.strip())
                    self.patterns.append(
                        (key, re.compile(".*?".join(re.escape(p) for p in pieces), re.S)))
        except Exception:  # an older Templates: fall back to the words " is late"
            self.patterns = []

    def key_of(self, text: str) -> str | None:
        """The template ``text`` was rendered from."""
        for key, pattern in self.patterns:
            if pattern.fullmatch(text.strip()):
                return key
        return None

    def is_late(self, text: str) -> bool:
        """Whether ``text`` says that it is late."""
        if not self.patterns:
            return " is late" in text
        key = self.key_of(text)
        return key is not None and key.endswith("_late")


@dataclass
class Book:
    """What the benchmark knows about its tickets: each one's thread and the kind of
    its promise, and how to read the desk's wording."""

    thread_of: dict[int, str]
    kind_of: dict[int, str]
    wording: Wording


def outcome(adapter: TimingAdapter, chosen: list[tuple[int, int]], book: Book,
            due_ts: float | None, status_of: dict[int, str], started_ts: float) -> dict[str, Any]:
    """Lateness, completeness and duplicates of one burst of lapses, overall and per kind
    of promise. A promise is lost when its ticket got no requester-facing message (an
    update, or for the waits a nudge or reminder) or the ledger does not show it covered
    (``missed/bot``). Lateness counts requester-facing messages only."""
    thread_of = book.thread_of
    firsts: dict[str, float] = {}
    first_text: dict[str, str] = {}
    per_thread: Counter[str] = Counter()
    late_words = 0
    late_threads: set[str] = set()
    audiences: Counter[str] = Counter()
    keys = []
    for arrived, message, key in adapter.arrivals:
        audiences[message.audience] += 1
        keys.append(key)
        if message.audience != "requester":
            continue
        per_thread[message.thread_id] += 1
        if message.thread_id not in firsts:
            firsts[message.thread_id] = arrived
            first_text[message.thread_id] = message.text
        if book.wording.is_late(message.text):
            late_words += 1
            late_threads.add(message.thread_id)
    wanted = {thread_of[ticket] for _pid, ticket in chosen}
    arrived_first = [firsts[t] for t in wanted if t in firsts]
    lost = sum(1 for pid, ticket in chosen
               if thread_of[ticket] not in firsts or status_of.get(pid) != "missed/bot")
    lateness = [a - due_ts for a in arrived_first] if due_ts is not None else []
    last = max(arrived_first) if arrived_first else math.nan
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({book.kind_of[t] for _p, t in chosen},
                       key=lambda k: [name for name, _ in MONDAY_MIX].index(k)):
        mine = [(pid, t) for pid, t in chosen if book.kind_of[t] == kind]
        threads = {thread_of[t] for _p, t in mine}
        got = [firsts[x] for x in threads if x in firsts]
        by_kind[kind] = {
            "due": len(mine), "delivered": len(got),
            "lost": sum(1 for pid, t in mine
                        if thread_of[t] not in firsts or status_of.get(pid) != "missed/bot"),
            "duplicated": sum(per_thread[x] - 1 for x in threads if per_thread[x] > 1),
            "lateness": common.summarize([a - due_ts for a in got] if due_ts is not None else []),
            "late_wording": len(threads & late_threads),
            "wording": dict(Counter(book.wording.key_of(first_text[x]) or "(not a lapse template)"
                                    for x in threads if x in first_text)),
        }
    return {
        "due": len(chosen),
        "delivered": len(arrived_first),
        "lost": lost,
        "no_message": len(wanted) - len(arrived_first),
        "not_covered_in_db": sum(1 for pid, _t in chosen if status_of.get(pid) != "missed/bot"),
        "duplicated": sum(c - 1 for t, c in per_thread.items() if t in wanted and c > 1),
        "unexpected": sum(c for t, c in per_thread.items() if t not in wanted),
        "duplicate_keys": len(keys) - len(set(keys)),
        "requester": audiences["requester"],
        "owner_reminders": audiences["person"],
        "agents": audiences["agents"],
        "late_wording": late_words,
        "desk_owes": sum(1 for _p, t in chosen if book.kind_of[t] not in WAITING_KINDS),
        "lateness": common.summarize(lateness),
        "by_kind": by_kind,
        "all_delivered_s": (last - due_ts) if due_ts is not None else math.nan,
        "from_start_s": last - started_ts,
        "rate_per_s": (len(arrived_first) / (last - min(arrived_first))
                       if len(arrived_first) > 1 and last > min(arrived_first) else math.nan),
        "statuses": dict(Counter(status_of.values())),
    }


async def run_desk(url: str, desk, prepare_seconds: float = 0.0):
    """A fresh process's worth of ledger: new Database, sweeper, dispatcher and Ticker
    (preparing covers ``prepare_seconds`` ahead)."""
    from bot.desk.alerts import dead_letter_alerter
    from bot.ledger.sweeper import PromiseSweeper
    from bot.outbox.dispatcher import OutboxDispatcher
    from bot.ticker import Ticker
    from bot.storage.uow import Database

    db = Database.from_url(url)
    adapter = TimingAdapter()
    dispatcher = OutboxDispatcher(db, {PLATFORM: adapter}, on_dead=dead_letter_alerter(desk),
                                  **card_renderer(desk))
    connect_outbox(db, dispatcher)
    sweeper = PromiseSweeper(db, desk, prepare_ahead=timedelta(seconds=prepare_seconds))
    ticker = Ticker(1.0, dispatcher, sweeper)
    return db, adapter, ticker


async def burst(url: str, desk, chosen, book: Book, timeout: float, notice: float,
                prepare_seconds: float) -> dict[str, Any]:
    """Phase 3: ``chosen`` fall due together, ``notice`` seconds after their due time is
    set, while the Ticker runs."""
    db, adapter, ticker = await run_desk(url, desk, prepare_seconds)
    started = time.time()
    ticker.start()
    # With a whole number of ticks plus a half, the due moment falls half-way between
    # two ticks, so the figures include the average wait for the next tick (0.5 s) when
    # nothing was prepared, not a lucky or unlucky alignment.
    due_ts = started + notice
    moved_s = await set_due(db, [p for p, _ in chosen],
                            datetime.fromtimestamp(due_ts, timezone.utc))
    if moved_s > notice - 1:
        say(f"  (moving the due times took {moved_s:.2f} s; the due moment had passed)")
    wanted = {book.thread_of[t] for _, t in chosen}
    complete = await wait_for(adapter, wanted, timeout + notice)
    await asyncio.sleep(2.0)  # room for any duplicate to show up
    # The desk goes on with what follows the requesters' updates (the agents' cards,
    # drawn when sent); the phase ends when it has nothing left to send.
    outbox_idle_s = await outbox_drained(db, timeout) - due_ts
    await ticker.stop()
    await asyncio.sleep(0.2)
    counts = await statuses(db, [p for p, _ in chosen])
    await db.dispose()
    result = outcome(adapter, chosen, book, due_ts, counts, started)
    result["complete"] = complete
    result["outbox_drained_s"] = outbox_idle_s
    return result


async def outbox_drained(db, timeout: float) -> float:
    """Wait until no outbox row is pending or being sent (or ``timeout`` s); returns the
    wall time it happened."""
    from sqlalchemy import func, select

    from bot.storage.tables import OutboxRow

    deadline = time.time() + timeout
    while time.time() < deadline:
        async with db.reading() as uow:
            left = (await uow.session.execute(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.status.in_(("pending", "sending"))))).scalar_one()
        if not left:
            break
        await asyncio.sleep(0.1)
    return time.time()


async def start_and_wait(url: str, desk, chosen, book: Book, timeout: float,
                         due_ts: float | None, linger: float) -> tuple[dict[str, Any], float]:
    """A new process's ledger starts; wait until ``chosen`` are all answered (or
    ``timeout``), then ``linger`` s to catch duplicates. Returns the outcome and the
    wall time the process started."""
    db, adapter, ticker = await run_desk(url, desk)
    started = time.time()
    ticker.start()
    complete = await wait_for(adapter, {book.thread_of[t] for _, t in chosen}, timeout)
    await asyncio.sleep(linger)
    await ticker.stop()
    counts = await statuses(db, [p for p, _ in chosen])
    await db.dispose()
    result = outcome(adapter, chosen, book, due_ts, counts, started)
    result["complete"] = complete
    return result, started


async def restart(url: str, desk, chosen, book: Book, timeout: float, outage_s: float = 2.5,
                  long_outage: list | None = None) -> dict[str, Any]:
    """Phase 5 (ledger side): promises fall due while nothing sweeps; then a new process
    starts. ``long_outage`` promises are given a due time 10 minutes in the past instead
    (an outage longer than the 2-minute grace), to check the wording owns the lateness."""
    from bot.storage.uow import Database

    db = Database.from_url(url)
    due_ts = time.time() + 2.0
    await set_due(db, [p for p, _ in chosen], datetime.fromtimestamp(due_ts, timezone.utc))
    await db.dispose()
    await asyncio.sleep(max(0.0, due_ts + outage_s - time.time()))
    result, started = await start_and_wait(url, desk, chosen, book, timeout, due_ts, 2.0)
    result["restarted_after_due_s"] = started - due_ts
    if long_outage:
        db = Database.from_url(url)
        await set_due(db, [p for p, _ in long_outage],
                      datetime.now(timezone.utc) - timedelta(minutes=10))
        await db.dispose()
        result["long_outage"], _ = await start_and_wait(url, desk, long_outage, book,
                                                        timeout, None, 1.0)
    return result


async def ledger_child(args, scale: Scale) -> dict[str, Any]:
    """Everything on the ledger's side, for one database."""
    from bot.desk.policy import Desk
    from bot.settings import Settings
    from bot.storage import migrate
    from bot.storage.uow import Database

    memory = [rss_row("start")]
    pg_version = None
    if args.db == "postgres":
        url = args.pg_url
        pg_version = await common.prepare_postgres(url, "public")
    else:
        path = Path(args.workdir) / "ledger.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    db = Database.from_url(url)
    await migrate.upgrade(db.engine)
    desk = Desk.from_settings(Settings(database_url=url), db.clock)
    mix = MONDAY_MIX if args.mix else FOLLOW_UP_ONLY
    say(f"\n== Ledger on {args.db}: {scale.open:,} open promises, {scale.due:,} falling due "
        f"({'the Monday 09:00 mix' if args.mix else 'follow-ups only'}) ==")

    with common.stopwatch() as t:
        tickets = await seed(db, scale.open, args.mix)
    say(f"seeded {WORKSPACES} workspaces and {len(tickets):,} tickets in bulk in {t['s']:.1f} s"
        + (" (every workspace with a triage channel)" if args.mix else ""))
    memory.append(rss_row("seeded tickets"))
    book = Book({ticket_id: thread for ticket_id, _ws, _o, thread, _k in tickets},
                {ticket_id: kind for ticket_id, _ws, _o, _t, kind in tickets}, Wording(desk))

    promises: list[tuple[int, int]] = []
    create_rows, idle_rows, idle_results = [], [], {}
    have = 0
    create_s = 0.0
    for stage in scale.stages:
        seconds = await grow(db, tickets, have, stage, promises)
        create_s += seconds
        create_rows.append([f"{have:,} -> {stage:,}", stage - have, seconds,
                            (stage - have) / seconds])
        have = stage
        if db.engine.dialect.name == "postgresql":
            await analyze_postgres(db)
        idle = await idle_ticks(db, desk, scale.ticks, args.tick_gap)
        idle_results[stage] = idle
        p = idle["parts"]
        idle_rows.append([stage, idle["tick"]["p50"], idle["tick"]["p99"], idle["tick"]["max"],
                          idle["back_to_back"]["p50"], p["warn"]["p50"], p["claim"]["p50"],
                          p["drain"]["p50"], p["old tick"]["p50"], p["SELECT 1 uow"]["p50"]])
    memory.append(rss_row("created promises + idle ticks"))
    say(common.table(["open promises", "made", "seconds", "promises/s"], create_rows,
                     title="\n1. Creating open promises (uow.promises.make, 1,000 per unit of work)"))
    say(f"   overall: {have:,} in {create_s:.1f} s = {have / create_s:,.0f} promises/s")
    say(common.table(["open promises", "tick p50 ms", "tick p99 ms", "tick max ms",
                      "back-to-back p50", "warn p50", "claim p50", "drain p50",
                      "sweep+drain p50", "SELECT 1 uow p50"], idle_rows,
                     title=f"\n2. Idle tick, nothing due ({scale.ticks} ticks {args.tick_gap} s "
                           "apart; tick = Ticker.tick(), one probe; sweep+drain = the two "
                           "probing apart, as before; all in ms)"))
    plans = await explain(db, desk)
    say(f"\n   EXPLAIN at {have:,} open promises "
        f"({'EXPLAIN (ANALYZE, BUFFERS)' if pg_version else 'EXPLAIN QUERY PLAN'}):")
    for name, lines in plans.items():
        say(f"   -- {name}\n      {lines[0]}")
        for line in lines[1:]:
            say(f"      {line}")
    await db.dispose()

    burst_set, restart_set, long_set = pick(promises, book.kind_of, mix, scale)
    timeout = max(120.0, scale.due * 0.06)

    say(f"\n3. {len(burst_set):,} promises fall due at once (real Ticker, 1 s tick) ...")
    say(f"   (due {args.notice} s after being set; covers prepared "
        f"{args.prepare_seconds:g} s ahead{' (off)' if not args.prepare_seconds else ''})")
    late = await burst(url, desk, burst_set, book, timeout, args.notice,
                       args.prepare_seconds)
    memory.append(rss_row("burst of lapses"))
    lat = late["lateness"]
    say(common.table(
        ["kind", "due", "delivered", "lost", "duplicated", "p50 late s", "p99 late s",
         "max late s", "all delivered s", "covers/s", "owner reminder msgs", "agents msgs"],
        [["all", late["due"], late["delivered"], late["lost"], late["duplicated"], lat["p50"],
          lat["p99"], lat["max"], late["all_delivered_s"], late["rate_per_s"],
          late["owner_reminders"], late["agents"]]]
        + [[kind, k["due"], k["delivered"], k["lost"], k["duplicated"], k["lateness"]["p50"],
            k["lateness"]["p99"], k["lateness"]["max"], None, None, None, None]
           for kind, k in late["by_kind"].items()]))
    say(f"   everything the burst queued (the agents' cards too) was sent "
        f"{late['outbox_drained_s']:.2f} s after the due time")
    say(f"   promise statuses afterwards: {late['statuses']}; duplicate idempotency keys: "
        f"{late['duplicate_keys']}; unexpected requester messages: {late['unexpected']}")
    say("   wording of each ticket's first requester message, by kind (template keys):")
    for kind, k in late["by_kind"].items():
        say(f"     {kind}: " + ", ".join(f"{key} {n:,}" for key, n in sorted(k["wording"].items())))

    # Idle again, now that the outbox holds the burst's sent rows.
    db = Database.from_url(url)
    if db.engine.dialect.name == "postgresql":
        await analyze_postgres(db)
    after = await idle_ticks(db, desk, scale.ticks, args.tick_gap)
    after_plans = await explain(db, desk)
    await db.dispose()
    sent_rows = late["requester"] + late["owner_reminders"] + late["agents"]
    say(f"   idle tick after the burst (outbox holds {sent_rows:,}"
        f" sent rows): p50 {after['tick']['p50']:.2f} ms, p99 {after['tick']['p99']:.2f} ms")
    say("   EXPLAIN after the burst (promises now include missed rows, the outbox sent rows):")
    for name, lines in after_plans.items():
        if name.startswith("promise warn"):
            continue
        say(f"   -- {name}")
        for line in lines[1:]:
            say(f"      {line}")

    say(f"\n5a. Restart, ledger side: {len(restart_set):,} fall due while no sweeper runs; "
        f"a new one starts 2.5 s after the due time ...")
    again = await restart(url, desk, restart_set, book, timeout, long_outage=long_set)
    memory.append(rss_row("restart"))
    lo = again.get("long_outage", {})
    say(common.table(
        ["scenario", "due", "covered", "lost", "duplicated", "late wording",
         "of them owed by the desk", "all delivered s"],
        [["down 2.5 s past due", again["due"], again["delivered"], again["lost"],
          again["duplicated"], again["late_wording"], again["desk_owes"], again["from_start_s"]],
         ["down 10 min past due", lo.get("due"), lo.get("delivered"), lo.get("lost"),
          lo.get("duplicated"), lo.get("late_wording"), lo.get("desk_owes"),
          lo.get("from_start_s")]]))
    say("   (all delivered s = from the new sweeper's start; 'late wording' counts updates that "
        "say they are late,\n    which the desk does only past its 2-minute grace, and only "
        "for promises the desk owes:\n    a nudge or a reminder to confirm has no late wording)")
    for name, result in (("down 2.5 s", again), ("down 10 min", lo)):
        wrong = {kind: (k["lost"], k["duplicated"]) for kind, k in result.get("by_kind", {}).items()
                 if k["lost"] or k["duplicated"]}
        if wrong:
            say(f"   {name}: lost, duplicated by kind: {wrong}")
    say(common.table(["after phase", "RSS now MiB", "peak RSS MiB"], memory,
                     title="\n4. Memory of this process"))

    return {
        "bench": "promises", "db": args.db, "open": have, "due": scale.due,
        "create_per_s": have / create_s,
        "idle_tick_ms_p50": idle_results[have]["tick"]["p50"],
        "idle_tick_ms_p99": idle_results[have]["tick"]["p99"],
        "idle_tick_ms_p50_by_open": {str(k): v["tick"]["p50"] for k, v in idle_results.items()},
        "idle_tick_ms_p99_by_open": {str(k): v["tick"]["p99"] for k, v in idle_results.items()},
        "idle_tick_ms_p50_after_burst": after["tick"]["p50"],
        "mix": bool(args.mix),
        "p50_lateness_s": lat["p50"], "p99_lateness_s": lat["p99"], "max_lateness_s": lat["max"],
        "p99_by_kind": {kind: k["lateness"]["p99"] for kind, k in late["by_kind"].items()},
        "due_by_kind": {kind: k["due"] for kind, k in late["by_kind"].items()},
        "lost_by_kind": {kind: k["lost"] for kind, k in late["by_kind"].items()},
        "all_delivered_s": late["all_delivered_s"], "covers_per_s": late["rate_per_s"],
        "outbox_drained_s": late.get("outbox_drained_s"),
        "lost": late["lost"], "duplicated": late["duplicated"],
        "owner_reminders": late["owner_reminders"], "agents_messages": late["agents"],
        "restart_due": again["due"], "restart_covered": again["delivered"],
        "restart_lost": again["lost"], "restart_duplicated": again["duplicated"],
        "restart_all_delivered_s": again["from_start_s"],
        "long_outage_due": lo.get("due"), "long_outage_covered": lo.get("delivered"),
        "long_outage_late_wording": lo.get("late_wording"),
        "long_outage_desk_owes": lo.get("desk_owes"),
        "peak_rss_mb": common.peak_rss_mb(),
        "postgresql": pg_version,
        "plans": plans, "plans_after_burst": after_plans,
    }


# ============================================================================ APScheduler

_ran_lock = threading.Lock()
_ran: dict[str, list[tuple[float, float]]] = defaultdict(list)


def remind(group: str, scheduled_ts: float) -> None:
    """The reminder job: notes when it ran (module level, so the job store can name it)."""
    with _ran_lock:
        _ran[group].append((time.time(), scheduled_ts))


def sync_postgres_url(url: str) -> str | None:
    """The URL with a synchronous driver that is installed, or None."""
    from sqlalchemy.engine import make_url
    for module, driver in (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql+psycopg2"),
                           ("pg8000", "postgresql+pg8000")):
        try:
            __import__(module)
        except ImportError:
            continue
        return make_url(url).set(drivername=driver).render_as_string(hide_password=False)
    return None


def aps_engine(args):
    """A synchronous engine for the job store: a separate SQLite file (same pragmas as the
    desk: WAL, synchronous=NORMAL, busy timeout), or a separate schema on PostgreSQL."""
    from sqlalchemy import create_engine, event
    if args.db == "postgres":
        return create_engine(sync_postgres_url(args.pg_url)), APS_SCHEMA
    engine = create_engine(f"sqlite:///{Path(args.workdir) / 'apscheduler.sqlite3'}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
    return engine, None


def new_scheduler(args, missed: dict[str, list[str]]):
    """A BackgroundScheduler (UTC, defaults: misfire_grace_time=1, coalesce=True) on the
    shared job store, counting EVENT_JOB_MISSED per job-id group."""
    from apscheduler.events import EVENT_JOB_MISSED
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    engine, schema = aps_engine(args)
    store = SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs", tableschema=schema)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)

    def on_missed(event) -> None:
        with _ran_lock:
            missed[event.job_id.split("-", 1)[0]].append(event.job_id)
    scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    return scheduler, engine, schema


def add_jobs(scheduler, group: str, count: int, run_at, budget_s: float) -> tuple[int, float]:
    """add_job ``count`` date jobs (run_at(i) gives each run time) until the budget is
    spent; returns (added, seconds)."""
    began = time.perf_counter()
    added = 0
    for i in range(count):
        when = run_at(i)
        scheduler.add_job(remind, "date", run_date=when, id=f"{group}-{i}",
                          args=[group, when.timestamp()])
        added += 1
        if added % 500 == 0 and time.perf_counter() - began > budget_s:
            break
    return added, time.perf_counter() - began


def wait_jobs(group: str, missed: dict[str, list[str]], expected: int, timeout: float) -> float:
    """Wait until ``expected`` jobs of ``group`` ran or were missed, or nothing changed for
    5 s, or ``timeout``; returns the seconds waited."""
    began = time.monotonic()
    last, last_change = -1, began
    while time.monotonic() - began < timeout:
        with _ran_lock:
            seen = len(_ran[group]) + len(missed[group])
        if seen >= expected:
            break
        if seen != last:
            last, last_change = seen, time.monotonic()
        elif time.monotonic() - last_change > 5.0 and seen > 0:
            break
        time.sleep(0.05)
    return time.monotonic() - began


def count_left(engine, schema: str | None, group: str) -> int:
    """Jobs of ``group`` still in the job store."""
    from sqlalchemy import text
    table = f'"{schema}".apscheduler_jobs' if schema else "apscheduler_jobs"
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table} WHERE id LIKE :g"),
                            {"g": f"{group}-%"}).scalar_one()


def apscheduler_child(args, scale: Scale) -> dict[str, Any]:
    """APScheduler 3 SQLAlchemyJobStore: add, burst while running, restart."""
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    memory = [rss_row("start")]
    if args.db == "postgres":
        if sync_postgres_url(args.pg_url) is None:
            say("\n== APScheduler on postgres: skipped, no synchronous PostgreSQL driver "
                "(pip install \"psycopg[binary]\") ==")
            return {"bench": "promises-apscheduler", "db": args.db,
                    "skipped": "no synchronous PostgreSQL driver (psycopg, psycopg2 or pg8000)"}
        asyncio.run(common.prepare_postgres(args.pg_url, APS_SCHEMA))
    else:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{Path(args.workdir) / 'apscheduler.sqlite3'}{suffix}").unlink(missing_ok=True)
    say(f"\n== APScheduler 3 SQLAlchemyJobStore on {args.db} (sync SQLAlchemy, "
        f"BackgroundScheduler, default misfire_grace_time=1, coalesce=True) ==")
    missed: dict[str, list[str]] = defaultdict(list)
    scheduler, engine, schema = new_scheduler(args, missed)
    scheduler.start()  # the job store is live: add_job writes straight to it

    far = datetime.now(timezone.utc) + FAR
    added, add_s = add_jobs(scheduler, "far", scale.open,
                            lambda i: far + timedelta(seconds=i % 86_400), scale.aps_budget_s)
    rate = added / add_s
    extrapolated = added < scale.open
    say(common.table(["jobs added", "seconds", "jobs/s", "all " + f"{scale.open:,}" + " s"],
                     [[added, add_s, rate, scale.open / rate]],
                     title=f"\n1. add_job of {scale.open:,} date jobs into a running scheduler"
                           + (f" (stopped at the {scale.aps_budget_s:.0f} s budget; the last "
                              "column is EXTRAPOLATED)" if extrapolated else "")))
    memory.append(rss_row("added jobs"))

    # The burst, scheduler running: due jobs all fall due at the same moment.
    est = scale.due / rate
    burst_at = datetime.now(timezone.utc) + timedelta(seconds=1.3 * est + 2.0)
    b_added, b_s = add_jobs(scheduler, "burst", scale.due, lambda i: burst_at, 1e9)
    waited = max(0.0, burst_at.timestamp() - time.time())
    wait_jobs("burst", missed, b_added, waited + max(60.0, scale.due * 0.02))
    with _ran_lock:
        ran_burst = list(_ran["burst"])
        missed_burst = len(missed["burst"])
    burst_late = [ran - when for ran, when in ran_burst]
    say(common.table(["due", "ran", "missed (>1 s late)", "p50 late s", "p99 late s",
                      "max late s", "left in store"],
                     [[b_added, len(ran_burst), missed_burst,
                       common.percentile(burst_late, 50), common.percentile(burst_late, 99),
                       max(burst_late) if burst_late else math.nan,
                       count_left(engine, schema, "burst")]],
                     title=f"\n2. {b_added:,} date jobs due at the same moment, scheduler running"))
    memory.append(rss_row("burst"))

    # The restart: due jobs fall due while the scheduler is shut down. They are added with
    # the scheduler paused (the job store stays live), so none can run before the shutdown
    # even if adding them takes longer than planned.
    scheduler.pause()
    restart_at = datetime.now(timezone.utc) + timedelta(seconds=1.3 * est + 2.0)
    r_added, _ = add_jobs(scheduler, "restart", scale.due, lambda i: restart_at, 1e9)
    stopped_at = time.time()
    scheduler.shutdown(wait=True)
    with _ran_lock:
        ran_before = len(_ran["restart"])
    if stopped_at > restart_at.timestamp():
        say(f"  (adding took longer than planned: shut down {stopped_at - restart_at.timestamp():.1f}"
            f" s after the due time; {ran_before} ran before the shutdown)")
    time.sleep(max(0.0, restart_at.timestamp() + 2.5 - time.time()))
    scheduler, engine, schema = new_scheduler(args, missed)
    started = time.time()
    scheduler.start()
    catch_up = wait_jobs("restart", missed, r_added, max(60.0, scale.due * 0.02))
    with _ran_lock:
        ran_after = len(_ran["restart"]) - ran_before
        missed_after = len(missed["restart"])
    left = count_left(engine, schema, "restart")
    scheduler.shutdown(wait=True)
    say(common.table(["due", "ran after restart", "missed after restart", "left in store",
                      "restart s after due", "processing s"],
                     [[r_added, ran_after, missed_after, left, started - restart_at.timestamp(),
                       catch_up]],
                     title=f"\n3. Restart: {r_added:,} date jobs fall due while the scheduler is "
                           "down; a new scheduler starts on the same job store 2.5 s later"))
    memory.append(rss_row("restart"))
    say(common.table(["after phase", "RSS now MiB", "peak RSS MiB"], memory,
                     title="\n4. Memory of this process"))
    return {
        "bench": "promises-apscheduler", "db": args.db, "jobs": added, "jobs_target": scale.open,
        "add_per_s": rate, "add_all_s": scale.open / rate, "add_all_s_extrapolated": extrapolated,
        "burst_due": b_added, "burst_ran": len(ran_burst), "burst_missed": missed_burst,
        "burst_p50_lateness_s": common.percentile(burst_late, 50),
        "burst_p99_lateness_s": common.percentile(burst_late, 99),
        "restart_due": r_added, "ran_before_shutdown": ran_before, "ran_after_restart": ran_after,
        "missed_after_restart": missed_after, "left_in_store_after_restart": left,
        "peak_rss_mb": common.peak_rss_mb(),
    }


# ============================================================================ driver


def child_main(args) -> None:
    """Run one side for one database and hand the result to the parent."""
    handler = CountingHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    scale = scale_from(args)
    if args.child == "ledger":
        result = asyncio.run(ledger_child(args, scale))
    else:
        result = apscheduler_child(args, scale)
    if handler.counts:
        result["log_counts"] = {f"{name} {level}": n for (name, level), n in handler.counts.items()}
        say("   log records: " + ", ".join(f"{k}: {v}" for k, v in result["log_counts"].items()))
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)


def scale_from(args) -> Scale:
    """The scale from the options (--quick divides the defaults by ten)."""
    open_ = args.open if args.open is not None else (10_000 if args.quick else 100_000)
    due = args.due if args.due is not None else (1_000 if args.quick else 10_000)
    long_outage = max(1, due // 10)
    if 2 * due + long_outage > open_:
        raise SystemExit(f"--due {due} is too large for --open {open_}: need "
                         f"2 x due + due/10 <= open (two disjoint bursts and a long outage)")
    budget = args.aps_budget if args.aps_budget is not None else (60.0 if args.quick else 180.0)
    return Scale(open=open_, due=due, ticks=args.ticks, long_outage=long_outage,
                 aps_budget_s=budget)


def run_child(kind: str, db: str, args, workdir: str) -> dict[str, Any] | None:
    """Run one child process, streaming its output; returns its result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--db", db,
               "--workdir", workdir, "--pg-url", args.pg_url, "--ticks", str(args.ticks),
               "--tick-gap", str(args.tick_gap), "--notice", str(args.notice),
               "--prepare-seconds", str(args.prepare_seconds)]
    for option, value in (("--open", args.open), ("--due", args.due),
                          ("--aps-budget", args.aps_budget)):
        if value is not None:
            command += [option, str(value)]
    if args.quick:
        command.append("--quick")
    command.append("--mix" if args.mix else "--no-mix")
    result = None
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK):])
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
    if process.returncode != 0:
        say(f"!! the {kind} benchmark on {db} failed (exit {process.returncode})")
        return {"bench": "promises" if kind == "ledger" else "promises-apscheduler", "db": db,
                "error": f"exit {process.returncode}"}
    return result


RSS_GOAL_MB = 300


def by_kind_text(p99_by_kind: dict[str, float] | None) -> str:
    """``first_response 1.20, follow_up 0.90, ...`` for a table cell."""
    return ", ".join(f"{kind} {common.fmt(p99)}" for kind, p99 in (p99_by_kind or {}).items())


def goals_table(results: list[dict[str, Any]]) -> str:
    """Each goal, met or not, per database."""
    rows = []
    for r in results:
        if "error" in r:
            continue
        met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
        rows += [
            [r["db"], "idle tick p50 < 5 ms at full size", r["idle_tick_ms_p50"],
             met(r["idle_tick_ms_p50"] < 5)],
            [r["db"], "idle tick p99 < 5 ms at full size", r["idle_tick_ms_p99"],
             met(r["idle_tick_ms_p99"] < 5)],
            [r["db"], "p99 lateness < 2 s (1 s tick)", r["p99_lateness_s"],
             met(r["p99_lateness_s"] is not None and r["p99_lateness_s"] < 2)],
            [r["db"], "all delivered < 30 s", r["all_delivered_s"],
             met(r["all_delivered_s"] is not None and r["all_delivered_s"] < 30)],
            [r["db"], "zero lost", r["lost"], met(r["lost"] == 0)],
            [r["db"], "zero duplicated", r["duplicated"], met(r["duplicated"] == 0)],
            [r["db"], f"peak RSS < {RSS_GOAL_MB} MiB", r["peak_rss_mb"],
             met(r["peak_rss_mb"] < RSS_GOAL_MB)],
        ]
    return common.table(["db", "goal", "measured", "verdict"], rows, title="Goals")


def parent_main(args) -> int:
    """Run every side for every database, then print the summary and the JSON lines."""
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    scale = scale_from(args)
    pg_version = asyncio.run(postgres_version(args.pg_url)) if "postgres" in dbs else None
    info = common.machine(pg_version)
    say("Promise ledger benchmark (bench/promises.py)")
    say(f"command: {' '.join([Path(sys.executable).name, 'bench/promises.py'] + sys.argv[1:])}")
    say(f"scale: {scale.open:,} open promises, {scale.due:,} falling due at once, "
        f"{scale.ticks} idle ticks per size" + (" (--quick)" if args.quick else ""))
    say("promises: " + ("the Monday 09:00 mix (--mix): " + ", ".join(
        f"{kind} {n:,}" for kind, n in shares(scale.due, MONDAY_MIX).items()) + " of the "
        f"{scale.due:,}; every workspace has a triage channel" if args.mix else
        "follow-ups only (--follow-up-only), owned in-progress P3 tickets, no triage channel"))
    say(common.describe_machine(info))
    if "postgres" in dbs and pg_version is None:
        say(f"!! PostgreSQL is not reachable at "
            f"{args.pg_url.split('@')[-1]}; skipping it")
        dbs.remove("postgres")
    workdir = args.workdir or tempfile.mkdtemp(prefix="helpdesk-bench-")
    results, aps_results = [], []
    began = time.monotonic()
    for db in dbs:
        ledger = None
        if args.only != "apscheduler":
            ledger = run_child("ledger", db, args, workdir)
            if ledger:
                results.append(ledger)
        if not args.no_apscheduler and args.only != "ledger":
            aps = run_child("apscheduler", db, args, workdir)
            if aps:
                if ledger and "error" not in ledger:
                    aps["ledger_restart_due"] = ledger.get("restart_due")
                    aps["ledger_covered_after_restart"] = ledger.get("restart_covered")
                aps_results.append(aps)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)

    say("\n== Summary ==")
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["db"], "error: " + r["error"]] + ["-"] * 10)
            continue
        rows.append([r["db"], r["open"], r["create_per_s"], r["idle_tick_ms_p50"],
                     r["idle_tick_ms_p99"], r["p50_lateness_s"], r["p99_lateness_s"],
                     r["all_delivered_s"], r["lost"], r["duplicated"], r["peak_rss_mb"],
                     by_kind_text(r.get("p99_by_kind"))])
    if rows:
        say(common.table(["db", "open", "create/s", "idle p50 ms", "idle p99 ms", "p50 late s",
                          "p99 late s", "all delivered s", "lost", "dup", "peak RSS MiB",
                          "p99 late s by kind"], rows))
    rows = []
    for a in aps_results:
        if "skipped" in a or "error" in a:
            rows.append([a["db"], a.get("skipped") or a.get("error")] + ["-"] * 6)
            continue
        rows.append([a["db"], a["jobs"], a["add_per_s"],
                     f"{a['add_all_s']:,.0f}" + (" (extrapolated)" if a["add_all_s_extrapolated"]
                                                 else ""),
                     f"{a['burst_ran']:,}/{a['burst_due']:,}",
                     f"{a['ran_after_restart']:,} ran, {a['missed_after_restart']:,} missed",
                     (f"{a['ledger_covered_after_restart']:,}/{a['ledger_restart_due']:,} covered"
                      if a.get("ledger_restart_due") is not None else "-"),
                     a["peak_rss_mb"]])
    if rows:
        say("\n" + common.table(["db", "APS jobs added", "add/s", "all added s",
                                 "burst ran (running)", "APS after restart",
                                 "ledger after restart", "APS peak RSS MiB"], rows))
    if results:
        say("\n" + goals_table(results))
    say(f"\ntotal wall time {time.monotonic() - began:.0f} s")
    for r in results:
        line = {k: r.get(k) for k in (
            "bench", "db", "open", "due", "create_per_s", "idle_tick_ms_p50", "idle_tick_ms_p99",
            "idle_tick_ms_p50_by_open", "idle_tick_ms_p50_after_burst",
            "p50_lateness_s", "p99_lateness_s", "max_lateness_s", "all_delivered_s",
            "covers_per_s", "lost", "duplicated", "owner_reminders", "restart_due",
            "restart_covered", "restart_lost", "restart_duplicated", "long_outage_due",
            "long_outage_late_wording", "peak_rss_mb", "error",
            "mix", "p99_by_kind", "due_by_kind", "lost_by_kind", "agents_messages",
            "long_outage_desk_owes", "outbox_drained_s") if k in r}
        line.setdefault("mix", bool(args.mix))
        line.update(notice_s=args.notice, prepare_seconds=args.prepare_seconds)
        common.emit({**line, "load_avg_at_start": info["load_avg_at_start"],
                     "load_avg_at_end": common.load_average()})
    for a in aps_results:
        common.emit({k: v for k, v in a.items() if k != "log_counts"})
    return 0 if all("error" not in r for r in results + aps_results) else 1


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--open", type=int, default=None,
                        help="open promises (default 100,000; 10,000 with --quick)")
    parser.add_argument("--due", type=int, default=None,
                        help="promises falling due at once (default 10,000; 1,000 with --quick)")
    parser.add_argument("--quick", action="store_true", help="1/10 scale smoke run")
    parser.add_argument("--mix", action=argparse.BooleanOptionalAction, default=True,
                        help="the promises are the Monday 09:00 mix of every kind, on tickets "
                             "in their real states, with triage channels (the default); "
                             "--no-mix is the earlier follow-ups-only benchmark")
    parser.add_argument("--follow-up-only", dest="mix", action="store_false",
                        help="the same as --no-mix: only follow_up promises on owned "
                             "in-progress P3 tickets, no triage channel, as older runs did")
    parser.add_argument("--ticks", type=int, default=200, help="idle ticks measured per size")
    parser.add_argument("--tick-gap", type=float, default=0.1,
                        help="seconds between measured idle ticks (default 0.1)")
    parser.add_argument("--aps-budget", type=float, default=None,
                        help="seconds allowed for adding APScheduler jobs before extrapolating "
                             "(default 180; 60 with --quick)")
    parser.add_argument("--no-apscheduler", action="store_true",
                        help="skip the APScheduler comparison")
    parser.add_argument("--only", choices=["ledger", "apscheduler"], default=None,
                        help="run only one side (the comparison is fairest with both)")
    parser.add_argument("--notice", type=float, default=20.5,
                        help="seconds between setting the burst's due time and that time "
                             "(default 20.5: half-way between two ticks)")
    parser.add_argument("--prepare-seconds", type=float, default=30.0,
                        help="how far ahead the sweeper prepares covers (default 30, the "
                             "desk's HELPDESK_PREPARE_SECONDS; 0 turns it off)")
    parser.add_argument("--pg-url", default=os.environ.get("HELPDESK_BENCH_POSTGRES_URL",
                                                           common.DEFAULT_PG_URL))
    parser.add_argument("--workdir", default=None,
                        help="folder for the SQLite files (default: a temporary one, removed)")
    parser.add_argument("--child", choices=["ledger", "apscheduler"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
