#!/usr/bin/env python
"""Soak: a million events over 90 simulated days on SQLite, with retention running.

    .venv/bin/python bench/soak.py [--events 1000000] [--days 90] [--quick]
                                   [--retention-days 30] [--no-retention] [--seed 17]

Every event goes through the real intake path from the router on (``Router.__call__``:
cleaning, dedupe, identity, the features, one unit of work, the outbox written in the
same transaction), then the real dispatcher delivers what it queued to adapters that
accept at once, and every five simulated minutes the real ``Ticker.tick`` runs the
sweeper (promises lapse and are covered) and retention (``bot/storage/retention.py``)
runs when it is due, all on the injected clock, which moves 90 days over the run. The
platform adapters themselves (Slack's and Discord's wire protocols) are not in the
loop: they are measured by bench/slack_intake.py and bench/discord_intake.py, and at a
million events they would measure the fakes.

The mix (``MIX``): new tickets from a DM or ``/ticket new``, requesters writing in
their threads, agents claiming, replying, noting and resolving, a platform re-delivering
an event it already sent, and chatter the desk ignores; texts from a few words to
3,000 characters; 60% Slack, 40% Discord, four workspaces.

Printed: the database file size (with its -wal) over time, where the bytes are (the
kept records: tickets, timelines, promises; the pruned window: outbox rows and event
ids), intake latency (median and p99 of ``Router.__call__``) at the start and at the
end, and the retention runs. The last line is one JSON object.

The bound on the file: once retention runs, the outbox and the event ids hold at most
``retention-days`` (plus one run's interval) of traffic, so their share of the file
stops growing after that many days; only the records the desk keeps for good grow.
The check is that the pruned tables at the end are no bigger than 1.25 times their
size on the day retention first had something to prune (the traffic is even over
the run, so 25% is room for the mix's randomness and page slack), and that the whole
file is at most the kept records plus that.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import logging
import os
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common as common  # noqa: E402
from bench._common import say  # noqa: E402
from bot.clock import OffsetClock  # noqa: E402
from bot.core import (  # noqa: E402
    Actor, CommandInvoked, Delivery, IncomingMessage, OutboundMessage,
)
from bot.desk.alerts import dead_letter_alerter  # noqa: E402
from bot.desk.cards import CardRenderer  # noqa: E402
from bot.desk.features import register_all  # noqa: E402
from bot.desk.policy import Desk  # noqa: E402
from bot.desk.router import Router  # noqa: E402
from bot.ledger.sweeper import PromiseSweeper  # noqa: E402
from bot.outbox.dispatcher import OutboxDispatcher  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.retention import Retention  # noqa: E402
from bot.storage.uow import Database  # noqa: E402
from bot.ticker import Ticker  # noqa: E402

# A Monday 08:00 UTC, so the first day starts with the desk opening.
START = datetime(2031, 3, 3, 8, 0, tzinfo=timezone.utc)
WORKSPACES = (("slack", "T-soak-1", 0.35), ("slack", "T-soak-2", 0.25),
              ("discord", "G-soak-1", 0.25), ("discord", "G-soak-2", 0.15))
AGENTS = 12
REQUESTERS = 3_000
SETTLE_EVERY = timedelta(minutes=5)
# The share of each kind of event (see the module's docstring).
# About as many tickets are resolved as are opened, so the open queue stays steady.
MIX = (("dm_new", 0.15), ("command_new", 0.03), ("requester_writes", 0.24),
       ("claim", 0.15), ("reply", 0.15), ("note", 0.04), ("resolve", 0.16),
       ("redelivery", 0.05), ("chatter", 0.03))
WORDS = ("vpn printer laptop password outlook teams wifi monitor badge keyboard drive "
         "license update crash slow login screen sound camera phone calendar folder "
         "share access reset error again since morning please help cannot").split()
# Past this many open tickets in a workspace, a new ticket gives way to a resolve: the
# queue stays steady, so each day's traffic (and its lapses) is like the day before and
# the pruned window can be compared across the run.
OPEN_TARGET = 60
WINDOW_SHARE = 0.05  # the start and the end windows: the first and the last 5% of events
BOUND_FACTOR = 1.25


class Accepting:
    """A platform adapter that accepts every message at once (the platform's own speed is
    another benchmark's business)."""

    pacing = None

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sent = 0
        self._ids = itertools.count(1)

    async def start(self, dispatch) -> None:  # noqa: D102
        pass

    async def stop(self) -> None:  # noqa: D102
        pass

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since=None) -> Delivery:  # noqa: D102
        self.sent += 1
        return Delivery(f"{self.platform}-m{next(self._ids)}",
                        message.channel_id or message.direct_to or "D", message.thread_id)


@dataclass
class Workspace:
    """What the driver remembers of one workspace: its open tickets and their threads."""

    platform: str
    external_id: str
    share: float
    next_number: int = 1
    # number -> (requester, channel, thread) for tickets opened from a DM, or None
    open: dict[int, tuple[str, str, str] | None] = field(default_factory=dict)
    unowned: list[int] = field(default_factory=list)


class Driver:
    """Makes the events of the mix, with the ids and threads a platform would give."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.workspaces = [Workspace(p, w, s) for p, w, s in WORKSPACES]
        self.ids = itertools.count(1)
        self.recent: list[Any] = []
        kinds, weights = zip(*MIX)
        self.kinds, self.weights = kinds, weights

    def text(self) -> str:
        """A message from a few words to 3,000 characters (most are short)."""
        length = min(3_000, int(self.random.lognormvariate(4.3, 1.0)) + 12)
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < length:
            words.append(self.random.choice(WORDS))
        return " ".join(words)[:length].capitalize()

    def actor(self, ws: Workspace, user: str) -> Actor:
        return Actor(user, user.capitalize())

    def setup(self) -> list[Any]:
        """The admin's commands: agents and a triage channel in every workspace."""
        events = []
        for ws in self.workspaces:
            agents = " ".join(f"<@agent{i}|Agent{i}>" for i in range(AGENTS))
            for line in (f"agents add {agents}", "leads add <@agent0|Agent0>",
                         "triage <#C-triage|triage>"):
                events.append(self._command(ws, "boss", "helpdesk", line))
        return events

    def _command(self, ws: Workspace, user: str, name: str, text: str) -> CommandInvoked:
        return CommandInvoked(platform=ws.platform, workspace_id=ws.external_id,
                              event_id=f"cmd{next(self.ids)}", actor=self.actor(ws, user),
                              channel_id=f"D-{user}", name=name, text=text)

    def next_event(self) -> tuple[str, Any]:
        """One event of the mix (a kind that needs an open ticket falls back to a new one)."""
        ws = self.random.choices(self.workspaces, [w.share for w in self.workspaces])[0]
        kind = self.random.choices(self.kinds, self.weights)[0]
        agent = f"agent{self.random.randrange(AGENTS)}"
        if kind == "redelivery" and self.recent:
            return kind, self.random.choice(self.recent)
        if kind in ("dm_new", "command_new") and len(ws.open) > OPEN_TARGET:
            kind = "resolve"
        if kind in ("claim", "reply", "note", "resolve") and not ws.open:
            kind = "chatter"  # nothing to work on in this workspace just now
        if kind == "claim" and not ws.unowned:
            kind = "reply"
        if kind == "chatter":
            n = next(self.ids)
            return kind, IncomingMessage(
                platform=ws.platform, workspace_id=ws.external_id, event_id=f"m{n}",
                actor=self.actor(ws, f"user{self.random.randrange(REQUESTERS)}"),
                channel_id="C-general", text=self.text(), message_id=f"m{n}")
        if kind == "claim" and ws.unowned:
            number = ws.unowned.pop(self.random.randrange(len(ws.unowned)))
            return kind, self._remember(self._command(ws, agent, "ticket", f"claim {number}"))
        if kind in ("reply", "note") and ws.open:
            number = self.random.choice(list(ws.open))
            return kind, self._remember(
                self._command(ws, agent, "ticket", f"{kind} {number} {self.text()}"))
        if kind == "resolve" and ws.open:
            # The oldest first, mostly: a queue is worked from its head.
            number = self.random.choice(list(itertools.islice(ws.open, 0, 10)))
            ws.open.pop(number)
            if number in ws.unowned:
                ws.unowned.remove(number)
            return kind, self._remember(self._command(ws, agent, "ticket", f"resolve {number}"))
        if kind == "requester_writes":
            threads = [(n, t) for n, t in itertools.islice(ws.open.items(), 0, 200) if t]
            if threads:
                number, (user, channel, thread) = self.random.choice(threads)
                n = next(self.ids)
                return kind, self._remember(IncomingMessage(
                    platform=ws.platform, workspace_id=ws.external_id, event_id=f"m{n}",
                    actor=self.actor(ws, user), channel_id=channel, text=self.text(),
                    message_id=f"m{n}", thread_id=thread, is_direct=True))
        user = f"user{self.random.randrange(REQUESTERS)}"
        number = ws.next_number
        ws.next_number += 1
        ws.unowned.append(number)
        if kind == "command_new":
            ws.open[number] = None
            return kind, self._remember(self._command(ws, user, "ticket", f"new {self.text()}"))
        n = next(self.ids)
        ws.open[number] = (user, f"D-{user}", f"m{n}")
        return "dm_new", self._remember(IncomingMessage(
            platform=ws.platform, workspace_id=ws.external_id, event_id=f"m{n}",
            actor=self.actor(ws, user), channel_id=f"D-{user}", text=self.text(),
            message_id=f"m{n}", is_direct=True))

    def _remember(self, event: Any) -> Any:
        self.recent.append(event)
        if len(self.recent) > 500:
            del self.recent[:250]
        return event


def table_sizes(path: Path, stale_before: str) -> dict[str, int]:
    """Bytes per table, its indexes included (SQLite's dbstat), the free pages, and row
    counts (``stale_before``: SQLite's text for the time retention should have reached)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        owner = dict(connection.execute("SELECT name, tbl_name FROM sqlite_master"))
        sizes: dict[str, int] = {}
        for name, size in connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes[table] = sizes.get(table, 0) + size
        page = connection.execute("PRAGMA page_size").fetchone()[0]
        sizes["(free)"] = connection.execute("PRAGMA freelist_count").fetchone()[0] * page
        for name, query in (
                ("(outbox rows)", "SELECT count(*) FROM outbox"),
                # Finished, not a cover, and older than the retention by more than two runs'
                # interval: what retention should have removed already (must stay 0).
                ("(overdue)", "SELECT count(*) FROM outbox o WHERE o.status IN ('sent', "
                 "'superseded') AND coalesce(o.sent_at, o.created_at) < ? AND NOT EXISTS "
                 "(SELECT 1 FROM promises p WHERE p.cover_outbox_id = o.id)"),
                ("(overdue ids)", "SELECT count(*) FROM processed_events WHERE received_at < ?"),
                ("(cover rows)", "SELECT count(*) FROM promises WHERE cover_outbox_id IS NOT NULL"),
                ("(event ids)", "SELECT count(*) FROM processed_events"),
                ("(tickets)", "SELECT count(*) FROM tickets")):
            sizes[name] = connection.execute(query, (stale_before,) if "?" in query else ()
                                             ).fetchone()[0]
        return sizes
    finally:
        connection.close()


def file_sizes(path: Path) -> tuple[int, int]:
    """(the database file, its write-ahead log), in bytes."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size, (wal.stat().st_size if wal.exists() else 0)


KEPT = ("tickets", "ticket_events", "promises", "people", "workspaces", "channel_configs")
MiB = 2 ** 20
# SQLite checkpoints its -wal at 1,000 pages (4 MiB), and the schema, the migration
# table and the pages freed since the last daily vacuum take a little more.
SLACK_MB = 1.0


def sample_of(path: Path, n: int, day: float, elapsed: float,
              stale_before: datetime) -> dict[str, Any]:
    """Where the bytes are: the kept records (tickets, timelines, promises, and the
    outbox rows that covered a lapse, which retention keeps for the report) and the
    pruned window (the other outbox rows and the event ids)."""
    sizes = table_sizes(path, stale_before.astimezone(timezone.utc).replace(tzinfo=None)
                        .strftime("%Y-%m-%d %H:%M:%S.%f"))
    main, wal = file_sizes(path)
    outbox_mb = sizes.get("outbox", 0) / MiB
    covers_mb = outbox_mb * sizes["(cover rows)"] / max(1, sizes["(outbox rows)"])
    return {"events": n, "day": round(day, 1), "file_mb": main / MiB, "wal_mb": wal / MiB,
            "kept_mb": sum(sizes.get(t, 0) for t in KEPT) / MiB + covers_mb,
            "window_mb": outbox_mb - covers_mb + sizes.get("processed_events", 0) / MiB,
            "free_mb": sizes["(free)"] / MiB,
            "outbox_rows": sizes["(outbox rows)"], "cover_rows": sizes["(cover rows)"],
            "event_ids": sizes["(event ids)"], "tickets": sizes["(tickets)"],
            "overdue_rows": sizes["(overdue)"] + sizes["(overdue ids)"],
            "elapsed_s": elapsed}


async def soak(args) -> dict[str, Any]:
    path = Path(args.workdir) / "soak.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    clock = OffsetClock()
    clock.offset = START - datetime.now(timezone.utc)
    settings = Settings(database_url=f"sqlite:///{path}", admins=("boss",))
    db = Database.from_url(settings.database_url, clock)
    await migrate.upgrade(db.engine)
    desk = Desk.from_settings(settings, clock)
    router = Router(db, desk)
    register_all(router)
    adapters = {"slack": Accepting("slack"), "discord": Accepting("discord")}
    dispatcher = OutboxDispatcher(db, adapters, on_dead=dead_letter_alerter(desk),
                                  render_cards=CardRenderer(desk))
    db.deliver_outbox_to(dispatcher)
    dispatcher.take_handoffs()
    sweeper = PromiseSweeper(db, desk)
    retention = None if args.no_retention else Retention(db, args.retention_days)
    ticker = Ticker(1.0, dispatcher, sweeper)  # ticked by hand on the simulated clock

    driver = Driver(args.seed)
    for event in driver.setup():
        await router(event)
    await dispatcher.drain()

    step = timedelta(days=args.days) / args.events
    window = max(1, int(args.events * WINDOW_SHARE))
    latencies: dict[str, list[float]] = {"start": [], "end": []}
    # The same, per kind: the start has few open tickets, so more of its events are the
    # cheap kinds (a claim with nothing to claim falls back to chatter); the goal compares
    # like with like (see kind_matched).
    by_window_kind: dict[str, dict[str, list[float]]] = {"start": {}, "end": {}}
    by_kind: dict[str, int] = {}
    samples: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    sample_every = max(1, args.events // args.samples)
    next_settle = clock.now() + SETTLE_EVERY
    started = time.perf_counter()
    gc.freeze()  # the driver's and the desk's long-lived objects are not garbage
    for n in range(1, args.events + 1):
        kind, event = driver.next_event()
        by_kind[kind] = by_kind.get(kind, 0) + 1
        began = time.perf_counter()
        await router(event)
        took = (time.perf_counter() - began) * 1000
        if n <= window:
            latencies["start"].append(took)
            by_window_kind["start"].setdefault(kind, []).append(took)
        elif n > args.events - window:
            latencies["end"].append(took)
            by_window_kind["end"].setdefault(kind, []).append(took)
        await dispatcher.drain(probe=False)  # what the handler handed over, as the desk does
        clock.advance(step)
        if clock.now() >= next_settle:
            next_settle = clock.now() + SETTLE_EVERY
            await ticker.tick()
            await dispatcher.drain()
            if retention is not None and retention.due(clock.now()):
                began = time.perf_counter()
                pruned = await retention.run()
                runs.append({"day": (clock.now() - START).total_seconds() / 86400,
                             "s": time.perf_counter() - began, "outbox": pruned.outbox,
                             "events": pruned.events, "more": pruned.more,
                             "vacuumed_pages": pruned.vacuumed_pages})
        if n % sample_every == 0 or n == args.events:
            sample = sample_of(path, n, (clock.now() - START).total_seconds() / 86400,
                               time.perf_counter() - started,
                               clock.now() - timedelta(days=args.retention_days)
                               - 2 * (retention.every if retention else timedelta(0)))
            samples.append(sample)
            say(f"  day {sample['day']:5.1f}  {n:>9,} events  file {sample['file_mb']:7.1f} MiB"
                f" (+wal {sample['wal_mb']:4.1f})  kept {sample['kept_mb']:7.1f}"
                f"  window {sample['window_mb']:7.1f}"
                f"  free {sample['free_mb']:5.1f}  rows: outbox {sample['outbox_rows']:,}"
                f" (covers kept {sample['cover_rows']:,}) event ids {sample['event_ids']:,}"
                f" tickets {sample['tickets']:,} overdue {sample['overdue_rows']}"
                f"  ({sample['elapsed_s']:.0f} s)")
    elapsed = time.perf_counter() - started
    await db.dispose()

    first_prune = next((r["day"] for r in runs if r["outbox"] or r["events"]), None)
    at_first = next((s for s in samples if first_prune is not None and s["day"] >= first_prune),
                    None)
    last = samples[-1]
    window_bound = BOUND_FACTOR * at_first["window_mb"] if at_first else None
    bound_mb = (last["kept_mb"] + window_bound + SLACK_MB) if at_first else None
    start, end = common.summarize(latencies["start"]), common.summarize(latencies["end"])
    matched = kind_matched(by_window_kind)
    return {
        "bench": "soak", "db": "sqlite", "events": args.events, "days": args.days,
        "retention_days": None if retention is None else args.retention_days,
        "elapsed_s": elapsed, "events_per_s": args.events / elapsed,
        "mix": by_kind, "sent": {p: a.sent for p, a in adapters.items()},
        "samples": samples,
        "retention_runs": len(runs),
        "retention_run_s_p50": common.percentile([r["s"] for r in runs], 50),
        "retention_run_s_max": max((r["s"] for r in runs), default=None),
        "retention_pruned_outbox": sum(r["outbox"] for r in runs),
        "retention_pruned_events": sum(r["events"] for r in runs),
        "retention_runs_capped": sum(1 for r in runs if r["more"]),
        "vacuumed_pages": sum(r["vacuumed_pages"] for r in runs),
        "first_prune_day": first_prune,
        "window_mb_at_first_prune": at_first["window_mb"] if at_first else None,
        "window_bound_mb": window_bound, "max_window_mb_after": max(
            (s["window_mb"] for s in samples if at_first and s["day"] >= at_first["day"]),
            default=None),
        "final_file_mb": last["file_mb"], "final_wal_mb": last["wal_mb"],
        "final_kept_mb": last["kept_mb"], "final_window_mb": last["window_mb"],
        "bound_mb": bound_mb,
        "overdue_rows_max": max(s["overdue_rows"] for s in samples),
        "bound_met": bound_mb is not None and last["file_mb"] <= bound_mb
        and all(s["window_mb"] <= window_bound for s in samples if s["day"] >= at_first["day"]),
        "intake_ms_start": start, "intake_ms_end": end,
        "intake_p50_ratio_raw": end["p50"] / start["p50"] if start["n"] else None,
        "intake_p99_ratio_raw": end["p99"] / start["p99"] if start["n"] else None,
        "intake_by_kind": matched["by_kind"],
        "intake_p50_ratio": matched["p50_ratio"], "intake_p99_ratio": matched["p99_ratio"],
        "peak_rss_mb": common.peak_rss_mb(),
    }


def kind_matched(by_window_kind: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """Start against end for the same work: per kind, p50 and p99 in each window, and the
    ratios of their sums weighted by the end window's count of each kind (the kinds seen
    in both windows only), so a start made of cheaper kinds does not flatter the end."""
    start, end = by_window_kind["start"], by_window_kind["end"]
    kinds = sorted(set(start) & set(end))
    per_kind = {k: {"n_start": len(start[k]), "n_end": len(end[k]),
                    "p50_start": common.percentile(start[k], 50),
                    "p50_end": common.percentile(end[k], 50),
                    "p99_start": common.percentile(start[k], 99),
                    "p99_end": common.percentile(end[k], 99)} for k in kinds}

    def ratio(q: str) -> float | None:
        before = sum(len(end[k]) * per_kind[k][f"{q}_start"] for k in kinds)
        after = sum(len(end[k]) * per_kind[k][f"{q}_end"] for k in kinds)
        return after / before if before else None
    return {"by_kind": per_kind, "p50_ratio": ratio("p50"), "p99_ratio": ratio("p99")}


def report(result: dict[str, Any]) -> None:
    rows = [[s["day"], s["events"], s["file_mb"], s["wal_mb"], s["kept_mb"], s["window_mb"],
             s["free_mb"], s["outbox_rows"], s["cover_rows"], s["event_ids"], s["tickets"]]
            for s in result["samples"]]
    say(common.table(["day", "events", "file MiB", "-wal MiB", "kept MiB", "window MiB",
                      "free MiB", "outbox rows", "of them covers", "event ids", "tickets"],
                     rows, title="\nDatabase size over time (kept: tickets, timelines, promises "
                                 "and lapse covers; window: what retention prunes)", digits=1))
    s, e = result["intake_ms_start"], result["intake_ms_end"]
    say(common.table(["window", "events", "p50 ms", "p90 ms", "p99 ms", "max ms"],
                     [["start (first 5%)", s["n"], s["p50"], s["p90"], s["p99"], s["max"]],
                      ["end (last 5%)", e["n"], e["p50"], e["p90"], e["p99"], e["max"]]],
                     title="\nIntake latency (Router.__call__, one event, wall time)"))
    say(common.table(["kind", "start n", "end n", "p50 start", "p50 end", "p99 start", "p99 end"],
                     [[k, v["n_start"], v["n_end"], v["p50_start"], v["p50_end"], v["p99_start"],
                       v["p99_end"]] for k, v in result["intake_by_kind"].items()],
                     title="\nIntake latency by kind (ms): the goal compares these, weighted "
                           "by the end window's mix"))
    say(f"\nRetention: {result['retention_runs']} runs, median {common.fmt(result['retention_run_s_p50'], 3)} s,"
        f" longest {common.fmt(result['retention_run_s_max'], 3)} s; pruned "
        f"{result['retention_pruned_outbox']:,} outbox rows and "
        f"{result['retention_pruned_events']:,} event ids; {result['retention_runs_capped']} runs "
        f"stopped at their bound; {result['vacuumed_pages']:,} pages vacuumed")
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    ratio = result["intake_p50_ratio"]
    goals = [["window after the first prune <= 1.25 x the window that day",
              f"{common.fmt(result['max_window_mb_after'])} <= "
              f"{common.fmt(result['window_bound_mb'])} MiB",
              met(result["bound_met"])],
             ["rows older than the retention (+2 runs) left in the window, any sample",
              result["overdue_rows_max"], met(result["overdue_rows_max"] == 0)
              if result["retention_days"] else "-"],
             ["file at the end <= kept + that bound + 1 MiB",
              f"{common.fmt(result['final_file_mb'])} <= {common.fmt(result['bound_mb'])} MiB",
              met(result["bound_met"])],
             ["intake p50 at the end within 20% of the start (same mix of kinds)",
              f"x {common.fmt(ratio)}", met(ratio is not None and ratio <= 1.2)],
             ["intake p99 at the end within 20% of the start (same mix of kinds)",
              f"x {common.fmt(result['intake_p99_ratio'])}",
              met(result["intake_p99_ratio"] is not None and result["intake_p99_ratio"] <= 1.2)]]
    say(common.table(["goal", "figure", "verdict"], goals, title="\nGoals"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=None,
                        help="events to drive (default 1,000,000; 20,000 with --quick)")
    parser.add_argument("--days", type=float, default=90.0, help="simulated days (default 90)")
    parser.add_argument("--quick", action="store_true", help="20,000 events over the 90 days")
    parser.add_argument("--retention-days", type=int, default=30)
    parser.add_argument("--no-retention", action="store_true",
                        help="for comparison: the same run without pruning")
    parser.add_argument("--samples", type=int, default=30, help="size samples over the run")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--workdir", default=None, help="folder for the database (a temp one)")
    args = parser.parse_args()
    args.events = args.events or (20_000 if args.quick else 1_000_000)
    logging.basicConfig(level=logging.ERROR)  # a lapse's escalation warnings are the mix
    info = common.machine()
    say("Soak: events through the router, the outbox and the sweeper on SQLite, "
        f"{args.events:,} over {args.days:g} simulated days, retention "
        + ("off" if args.no_retention else f"{args.retention_days} days"))
    say(common.describe_machine(info))
    with tempfile.TemporaryDirectory(prefix="helpdesk-soak-") as scratch:
        args.workdir = args.workdir or scratch
        os.makedirs(args.workdir, exist_ok=True)
        result = asyncio.run(soak(args))
    report(result)
    result["machine"] = info
    say()
    common.emit(result)


if __name__ == "__main__":
    main()
