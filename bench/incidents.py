#!/usr/bin/env python
"""Benchmark of a major incident: a storm of reports into one workspace, an incident
declared early, and one update broadcast to everyone.

    .venv/bin/python bench/incidents.py [--db sqlite|postgres|both] [--reports 2000]
                                        [--seconds 60] [--declare-after 50]
                                        [--workspace-rate 50]

One process runs the desk as ``bot/app.py`` wires it (router and features, outbox
dispatcher with its in-memory hand-over, promise sweeper, ticker) on a fresh schema,
with a chat adapter that plays Slack in memory: it enforces Slack's pacing (one
message a second per channel, and a workspace budget for ``chat.postMessage``,
``--workspace-rate``, 50/s by default: Slack publishes no exact figure, so it is a
parameter) by answering any send that breaks it with a 429 and ``Retry-After``, and
declares the same limits as its ``Pacing``. Each reporter writes from their own DM.

1. The storm: ``--reports`` messages spread evenly over ``--seconds`` (2,000 in 60 s),
   each from a new person, each handled as the platform would deliver it (concurrently).
   After ``--declare-after`` (50) an agent runs ``/incident declare VPN down from
   1-50``. Every later reporter whose acknowledgement asks "Is this what you're
   seeing?" presses **Yes** as soon as it arrives.
2. The update: ``/incident update INC-1 ...`` once the storm has settled, until the
   last linked requester's thread has it.

Figures: acknowledgement p50/p99/max (the event handed to the router to the
acknowledgement handed to the adapter), tickets linked, the broadcast's duration
against its floor (the paced messages it sends, one after another at the workspace
budget: (messages - 1) / rate; it runs in real time, not simulated), lost
(reports never acknowledged, threads never updated) and duplicated (a second
acknowledgement or update in a thread), and the triage channel's card posts and edits
after the declaration. The last lines are one JSON object per database.

PostgreSQL: ``HELPDESK_BENCH_POSTGRES_URL`` (default
postgresql://postgres@127.0.0.1:5432/helpdesk_bench), schema ``incident_bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common as common  # noqa: E402
from bench._common import say  # noqa: E402

PG_SCHEMA = "incident_bench"
TEAM = "T0STORM"
TRIAGE, STATUS = "CTRIAGE", "CSTATUS"
AGENT = "UAGENT"
UPDATE = "The VPN provider is replacing the failed gateway"
# What people write when the VPN is down: alike, never the same words every time.
SAYINGS = ("VPN down", "the VPN is down", "my vpn keeps dropping", "VPN not connecting",
           "cannot connect to the VPN", "vpn broken since 9", "is the VPN down?",
           "VPN disconnects every minute", "vpn won't connect from home",
           "VPN login fails, is it down")


class SlackLike:
    """An in-memory chat platform with Slack's posting limits (see the module doc): a
    token bucket of ``BURST`` messages for the workspace budget (Slack allows short
    bursts), one second between posts in a channel."""

    platform = "slack"
    BURST = 2.0

    def __init__(self, workspace_rate: float) -> None:
        from bot.core import Pacing

        self.pacing = Pacing(per_channel=1.0, per_workspace=workspace_rate)
        self.rate = workspace_rate
        self.sent: list[tuple[float, Any]] = []
        self.keys: dict[str, str] = {}
        self.rejected = 0
        self._channel_last: dict[str, float] = {}
        # The workspace budget as a token bucket holding at most BURST messages.
        self._tokens, self._filled = self.BURST, time.monotonic()
        self.on_send = None  # called with (time, message)

    async def start(self, dispatch) -> None:  # noqa: D102
        pass

    async def stop(self) -> None:  # noqa: D102
        pass

    async def send(self, message, *, idempotency_key: str, attempt: int = 1, since=None):
        """Deliver, or answer a send that breaks the limits with a 429."""
        from bot.core import Delivery, DeliveryError

        if idempotency_key in self.keys:  # the platform already has it
            return Delivery(self.keys[idempotency_key], message.channel_id, message.thread_id)
        now = time.monotonic()
        paced = not (message.ephemeral_to or message.edit_of or message.audience == "home")
        channel = message.direct_to or message.channel_id
        if paced:
            self._tokens = min(self.BURST, self._tokens + (now - self._filled) * self.rate)
            self._filled = now
            # A hundredth of a second of slack per channel for timer jitter.
            wait = max(self._channel_last.get(channel, -9.0) + 1.0 - 0.01 - now,
                       (1.0 - self._tokens) / self.rate)
            if wait > 0:
                self.rejected += 1
                raise DeliveryError("ratelimited", retry_after=wait)
            self._channel_last[channel] = now
            self._tokens -= 1.0
        message_id = f"m{len(self.sent) + 1}"
        self.keys[idempotency_key] = message_id
        self.sent.append((now, message))
        if self.on_send is not None:
            self.on_send(now, message, message_id)
        return Delivery(message_id, message.channel_id, message.thread_id)


async def run_storm(db_url: str, args) -> dict[str, Any]:
    """One database's run; returns its figures."""

    from bot.clock import SystemClock
    from bot.core import Actor, ButtonPressed, CommandInvoked, IncomingMessage
    from bot.desk.cards import CardRenderer
    from bot.desk.features import register_all
    from bot.desk.policy import Desk
    from bot.desk.router import Router
    from bot.domain.people import Role
    from bot.ledger.sweeper import PromiseSweeper
    from bot.outbox.dispatcher import OutboxDispatcher
    from bot.settings import Settings
    from bot.storage import migrate
    from bot.storage.uow import Database
    from bot.ticker import Ticker

    clock = SystemClock()
    db = Database.from_url(db_url, clock)
    common.use_schema(db.engine, PG_SCHEMA)
    await migrate.upgrade(db.engine)
    settings = Settings(database_url=db_url)
    desk = Desk.from_settings(settings, clock)
    router = Router(db, desk)
    register_all(router)
    adapter = SlackLike(args.workspace_rate)
    dispatcher = OutboxDispatcher(db, {"slack": adapter}, render_cards=CardRenderer(desk))
    db.deliver_outbox_to(dispatcher)
    ticker = Ticker(0.2, dispatcher, PromiseSweeper(db, desk))
    now = clock.now()
    async with db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("slack", TEAM, TEAM, now)
        agent = await uow.people.ensure(workspace.id, AGENT, "Sam", now)
        await uow.people.record_role(agent.id, Role.AGENT)
        await uow.workspaces.set_channel(workspace.id, "triage", TRIAGE, now, only_one=True)
        await uow.workspaces.set_channel(workspace.id, "status", STATUS, now, only_one=True)

    counter = iter(range(10**9))
    reported: dict[str, float] = {}  # channel -> event handed to the router
    acks: dict[str, list[float]] = defaultdict(list)
    updates: Counter = Counter()
    update_done: dict[str, float] = {}
    presses: list[asyncio.Task] = []
    declared_at: list[float] = []
    loop = asyncio.get_running_loop()

    def actor(user: str, name: str = "") -> Actor:
        return Actor(user_id=user, display_name=name or user)

    # As the Slack adapter does (``max_handling``): a few events handled at once, the
    # rest wait their turn, so a burst queues in order instead of at the write lock.
    handling_gate = asyncio.Semaphore(args.max_handling)

    async def deliver(event) -> None:
        async with handling_gate:
            await router(event)

    def on_send(at: float, message, message_id: str) -> None:
        channel = message.channel_id
        if channel in reported and message.audience == "requester" \
                and not message.ephemeral_to:
            if "opened ticket #" in message.text:
                acks[channel].append(at)
                yes = next((b for b in message.buttons if b.action == "incident.yes"), None)
                if yes is not None:
                    presses.append(loop.create_task(deliver(ButtonPressed(
                        platform="slack", workspace_id=TEAM, event_id=f"b{next(counter)}",
                        actor=actor(f"U{channel[1:]}"), channel_id=channel,
                        action=yes.action, value=yes.value, message_id=message_id))))
            elif UPDATE in message.text:
                updates[channel] += 1
                update_done[channel] = at

    adapter.on_send = on_send
    await adapter.start(router)
    ticker.start()
    say(f"  storm: {args.reports} reports in {args.seconds:.0f} s "
        f"({args.reports / args.seconds:.1f}/s), declared after {args.declare_after}")
    rng = random.Random(15)
    started = time.monotonic()
    handling: list[asyncio.Task] = []
    for n in range(1, args.reports + 1):
        due = started + (n - 1) * args.seconds / args.reports
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        channel = f"D{n}"
        reported[channel] = time.monotonic()
        handling.append(loop.create_task(deliver(IncomingMessage(
            platform="slack", workspace_id=TEAM, event_id=f"e{n}",
            actor=actor(f"U{n}", f"Person {n}"), channel_id=channel,
            text=rng.choice(SAYINGS), message_id=f"{n}.0", is_direct=True))))
        if n == args.declare_after:
            await asyncio.gather(*handling)  # the agent has seen those tickets
            declared_at.append(time.monotonic())
            await deliver(CommandInvoked(
                platform="slack", workspace_id=TEAM, event_id="declare", actor=actor(AGENT, "Sam"),
                channel_id=f"D{AGENT}", name="incident",
                text=f"declare VPN down from 1-{args.declare_after}", is_direct=True))
    await asyncio.gather(*handling)
    storm_handled = time.monotonic() - started
    # Wait for the acknowledgements and the Yes presses to settle.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (len(acks) < args.reports
                                          or not all(t.done() for t in presses)):
        await asyncio.sleep(0.2)
    await asyncio.gather(*presses)
    await asyncio.sleep(2.0)

    async with db.reading() as uow:
        incident = await uow.incidents.by_number(workspace.id, 1)
        linked = len(await uow.incidents.tickets(incident.id)) if incident else 0
        open_linked = len(await uow.incidents.tickets(incident.id, active_only=True)) \
            if incident else 0
    after = [m for at, m in adapter.sent
             if m.channel_id == TRIAGE and declared_at and at > declared_at[0]]
    card_writes = len(after)
    async with db.reading() as uow:
        linked_numbers = {t.number for t in await uow.incidents.tickets(incident.id)} \
            if incident else set()
    writes_by_kind = Counter(
        ("edit" if m.edit_of else "post")
        + (" of a linked ticket's card" if m.ticket_number in linked_numbers
           else " of another ticket's card" if m.ticket_number else " (no ticket)")
        for m in after)
    latencies = [times[0] - reported[channel] for channel, times in acks.items()]
    say(f"  storm handled in {storm_handled:.1f} s; {len(acks)} acknowledged, "
        f"{linked} linked; ack p99 {common.percentile(latencies, 99):.3f} s")
    say("  triage channel after declaring: " + (", ".join(
        f"{count} {kind}" for kind, count in writes_by_kind.most_common()) or "nothing"))

    # The update, to everyone linked.
    sent_before = len(adapter.sent)
    rejected_before = adapter.rejected
    began = time.monotonic()
    await deliver(CommandInvoked(
        platform="slack", workspace_id=TEAM, event_id="update", actor=actor(AGENT, "Sam"),
        channel_id=f"D{AGENT}", name="incident", text=f"update INC-1 {UPDATE}",
        is_direct=True))
    deadline = time.monotonic() + max(120.0, 3 * open_linked / args.workspace_rate)
    while time.monotonic() < deadline and len(update_done) < open_linked:
        await asyncio.sleep(0.05)
    broadcast_s = (max(update_done.values()) - began) if update_done else None
    await asyncio.sleep(1.0)
    paced = sum(1 for _, m in adapter.sent[sent_before:]
                if not (m.ephemeral_to or m.edit_of))
    floor = (paced - 1) / args.workspace_rate if paced > 1 else 0.0
    await ticker.stop()
    await adapter.stop()
    await db.dispose()

    lost = (args.reports - len(acks)) + max(0, open_linked - len(update_done))
    duplicated = sum(len(t) - 1 for t in acks.values() if len(t) > 1) \
        + sum(c - 1 for c in updates.values() if c > 1)
    return {
        "ack_p50_s": common.percentile(latencies, 50),
        "ack_p99_s": common.percentile(latencies, 99),
        "ack_max_s": max(latencies, default=None),
        "linked": linked, "broadcast_to": open_linked,
        "broadcast_s": broadcast_s, "broadcast_floor_s": floor,
        "broadcast_vs_floor": (broadcast_s / floor) if broadcast_s and floor else None,
        "broadcast_messages": paced,
        "rate_limited_sends": adapter.rejected - rejected_before,
        "triage_card_writes_after_declare": card_writes,
        "lost": lost, "duplicated": duplicated,
        "storm_handled_s": storm_handled,
    }


async def bench_database(db: str, args) -> dict[str, Any]:
    """Prepare ``db`` and run the storm on it."""
    workdir = tempfile.mkdtemp(prefix="helpdesk-incident-bench-")
    try:
        if db == "postgres":
            await common.prepare_postgres(args.pg_url, PG_SCHEMA)
            url = args.pg_url
        else:
            url = f"sqlite:///{workdir}/desk.sqlite3"
        return {"bench": "incidents", "db": db, "reports": args.reports,
                **await run_storm(url, args)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def goals(results: list[dict[str, Any]]) -> str:
    """The issue's goals, met or not."""
    rows = []
    for r in results:
        rows += [
            [r["db"], "ack p99 < 1 s", r["ack_p99_s"], (r["ack_p99_s"] or 9) < 1],
            [r["db"], "broadcast within 10% of the floor", r["broadcast_vs_floor"],
             r["broadcast_vs_floor"] is not None and r["broadcast_vs_floor"] <= 1.10],
            [r["db"], "0 lost, 0 duplicated", f"{r['lost']} / {r['duplicated']}",
             r["lost"] == 0 and r["duplicated"] == 0],
            [r["db"], "< 30 card writes after declaring",
             r["triage_card_writes_after_declare"], r["triage_card_writes_after_declare"] < 30],
        ]
    return common.table(["db", "goal", "measured", "met"], rows, title="Goals")


def main(argv=None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--declare-after", type=int, default=50)
    parser.add_argument("--workspace-rate", type=float, default=50.0,
                        help="the simulated workspace budget for chat.postMessage (per s)")
    parser.add_argument("--max-handling", type=int, default=4,
                        help="events handled at once (the Slack adapter's default, 4)")
    parser.add_argument("--pg-url", default=os.environ.get("HELPDESK_BENCH_POSTGRES_URL",
                                                           common.DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    say("Incident benchmark (bench/incidents.py)")
    say(f"command: {' '.join([Path(sys.executable).name, 'bench/incidents.py'] + sys.argv[1:])}")
    info = common.machine(packages=("sqlalchemy", "aiosqlite", "asyncpg"))
    say(common.describe_machine(info))
    results = []
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        try:
            results.append(asyncio.run(bench_database(db, args)))
        except OSError as error:
            say(f"!! {db}: {error}")
    say("\n" + common.table(
        ["db", "reports", "ack p50 s", "ack p99 s", "ack max s", "linked", "broadcast s",
         "floor s", "vs floor", "429s", "card writes", "lost", "dup"],
        [[r["db"], r["reports"], r["ack_p50_s"], r["ack_p99_s"], r["ack_max_s"], r["linked"],
          r["broadcast_s"], r["broadcast_floor_s"], r["broadcast_vs_floor"],
          r["rate_limited_sends"], r["triage_card_writes_after_declare"], r["lost"],
          r["duplicated"]] for r in results], digits=3))
    say("\n" + goals(results))
    for result in results:
        common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
