#!/usr/bin/env python
"""Benchmark of Discord intake: MESSAGE_CREATE events at rising rates through the fake
gateway, into the real desk, until each ticket's acknowledgement is posted.

    .venv/bin/python bench/discord_intake.py [--rates 10,25,50,100] [--seconds 10] [--triage]
                                             [--quick]

The real DiscordAdapter (discord.py) is connected to the tests' FakeDiscord (REST and
gateway on 127.0.0.1), which runs in a child process of its own and plays the people:
it times each ticket from the moment it dispatches MESSAGE_CREATE to the moment the
acknowledgement's POST reaches it, on its own clock. For each rate, on a fresh
SQLite file migrated with Alembic, the desk runs as ``helpdesk-bot run`` would: router,
handlers, and the outbox delivered by the real Ticker (woken at each commit). People
write in an intake text channel at a steady rate (open loop: the next message does not
wait for the previous ticket); the acknowledgement is posted in a thread created from
the message, so each ticket costs the desk two REST calls before it counts. ``--triage``
adds a triage channel, so every ticket also posts its card there (as bench/slack_intake.py). Sustained tickets per second are acknowledgements over the stage's span.

Goal (issue): p99 under 1 s at 50 events/s on SQLite. The last lines are one JSON object
per rate.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common as common  # noqa: E402

GOAL_RATE, GOAL_P99_S = 50, 1.0
PEOPLE = 200


class Sink:
    """The adapter's dispatch target; each stage points it at a fresh desk."""

    def __init__(self) -> None:
        self.router = None

    async def __call__(self, event) -> None:  # noqa: D102
        if self.router is not None:
            await self.router(event)


# ============================================================================ the fake's process


def fake_process(conn, rates: list[int], seconds: float) -> None:
    """Child process: serve the fake Discord and play the people writing to it."""
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(_play(conn, rates, seconds))


async def _play(conn, rates: list[int], seconds: float) -> None:
    from tests.support.discord.server import FakeDiscord

    fake = await FakeDiscord().start()
    guild = fake.add_guild("Bench")
    world = {"guild": guild, "help": fake.add_channel(guild, "help"),
             "triage": fake.add_channel(guild, "triage"),
             "people": [fake.add_user(f"Person {n}") for n in range(PEOPLE)],
             "api": fake.api_url, "gateway": fake.gateway_url}
    for person in world["people"]:
        fake.add_member(guild, person)
    conn.send(world)
    await fake.wait_for(lambda: fake.commands, timeout=60)
    for rate in rates:
        conn.send(("stage", rate))
        assert await asyncio.to_thread(conn.recv) == "ready"
        conn.send(("done", await _load(fake, world, rate, seconds)))
    await asyncio.to_thread(conn.recv)
    await fake.stop()


async def _load(fake, world: dict, rate: int, seconds: float) -> dict:
    """Messages in the intake channel at ``rate`` a second; when each was acknowledged."""
    first_call = len(fake.calls)
    sent: dict[str, float] = {}
    total = int(rate * seconds)
    started = time.monotonic()
    for i in range(total):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        person = world["people"][1 + i % (len(world["people"]) - 1)]
        message = fake.say(person, world["help"],
                           f"Ticket {i}: the printer on floor {i % 7} says PC LOAD LETTER")
        sent[message["id"]] = time.monotonic()
    offered_s = time.monotonic() - started
    ack = re.compile(r"/channels/(\d+)/messages")
    done: dict[str, float] = {}
    scanned = first_call
    deadline = time.monotonic() + max(30.0, seconds * 3)
    while len(done) < total and time.monotonic() < deadline:
        for call in fake.calls[scanned:]:
            match = ack.fullmatch(call.path) if call.method == "POST" else None
            if match and match.group(1) in sent and match.group(1) not in done:
                done[match.group(1)] = call.at
        scanned = len(fake.calls)
        await asyncio.sleep(0.05)
    latencies = [done[m] - sent[m] for m in done]
    span = (max(done.values()) - min(sent.values())) if done else float("nan")
    summary = common.summarize(latencies)
    return {"bench": "discord_intake", "db": "sqlite", "rate_per_s": rate,
            "offered_per_s": total / offered_s, "events": total, "acknowledged": len(done),
            "p50_s": summary["p50"], "p90_s": summary["p90"], "p99_s": summary["p99"],
            "max_s": summary["max"], "tickets_per_s": len(done) / span if done else 0.0}


# ============================================================================ the desk's process


async def desk_stage(adapter, sink, world: dict, folder: str, rate: int, triage: bool):
    """A fresh desk on a fresh SQLite file, delivering with the real Ticker."""
    from bot.clock import SystemClock
    from bot.desk.cards import CardRenderer
    from bot.desk.policy import Desk
    from bot.domain.people import Role
    from bot.desk.features import register_all
    from bot.desk.router import Router
    from bot.ledger.sweeper import PromiseSweeper
    from bot.outbox.dispatcher import OutboxDispatcher
    from bot.ticker import Ticker
    from bot.settings import Settings
    from bot.storage import migrate
    from bot.storage.uow import Database

    clock = SystemClock()
    url = f"sqlite:///{folder}/intake-{rate}.sqlite3"
    db = Database.from_url(url, clock)
    await migrate.upgrade(db.engine)
    desk = Desk.from_settings(Settings(database_url=url), clock)
    async with db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("discord", world["guild"], "Bench", clock.now())
        await uow.workspaces.set_channel(workspace.id, "intake", world["help"], clock.now(),
                                         only_one=False)
        if triage:
            await uow.workspaces.set_channel(workspace.id, "triage", world["triage"],
                                             clock.now(), only_one=True)
        agent = await uow.people.ensure(workspace.id, world["people"][0], "Agent", clock.now())
        await uow.people.record_role(agent.id, Role.AGENT)
    router = Router(db, desk)
    register_all(router)
    dispatcher = OutboxDispatcher(db, {"discord": adapter}, render_cards=CardRenderer(desk))
    db.deliver_outbox_to(dispatcher)
    ticker = Ticker(1.0, dispatcher, PromiseSweeper(db, desk))
    sink.router = router
    ticker.start()

    async def teardown() -> None:
        """Stop this stage's desk."""
        sink.router = None
        await ticker.stop()
        await db.dispose()
    return teardown


async def run(rates: list[int], seconds: float, triage: bool = False) -> list[dict]:
    """Start the fake in its own process, then serve it stage after stage."""
    from bot.platforms.discord.adapter import DiscordAdapter
    from bot.settings import Secret, Settings

    context = multiprocessing.get_context("spawn")
    conn, child_conn = context.Pipe()
    child = context.Process(target=fake_process, args=(child_conn, rates, seconds), daemon=True)
    child.start()
    world = await asyncio.to_thread(conn.recv)
    settings = Settings(discord_bot_token=Secret("fake-token"), discord_api_url=world["api"],
                        discord_gateway_url=world["gateway"])
    adapter, sink = DiscordAdapter(settings, guild_ready_timeout=0.1), Sink()
    await adapter.start(sink)
    results = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for _ in rates:
                _, rate = await asyncio.to_thread(conn.recv)
                teardown = await desk_stage(adapter, sink, world, folder, rate, triage)
                conn.send("ready")
                _, result = await asyncio.to_thread(conn.recv)
                await teardown()
                results.append(result)
                print(f"  {rate:>4}/s: p50 {result['p50_s'] * 1000:.0f} ms, "
                      f"p99 {result['p99_s'] * 1000:.0f} ms, "
                      f"{result['tickets_per_s']:.1f} tickets/s", flush=True)
    finally:
        await adapter.stop()
        conn.send("bye")
        await asyncio.to_thread(child.join, 30)
    return results


def main(argv=None) -> int:
    """Run the stages, print a table, then the JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="10,25,50,100",
                        help="events per second, comma-separated (default 10,25,50,100)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each stage")
    parser.add_argument("--quick", action="store_true", help="3-second stages")
    parser.add_argument("--triage", action="store_true",
                        help="also post each ticket's card in a triage channel")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    # A stage's sweep cut short when its desk stops is not news.
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    seconds = 3.0 if args.quick else args.seconds
    info = common.machine(packages=("discord.py", "sqlalchemy", "aiosqlite", "aiohttp"))
    print(common.describe_machine(info), flush=True)
    results = asyncio.run(run(rates, seconds, args.triage))
    print()
    print(common.table(
        ["events/s", "offered/s", "events", "acked", "p50 ms", "p90 ms", "p99 ms", "max ms",
         "tickets/s"],
        [[r["rate_per_s"], r["offered_per_s"], r["events"], r["acknowledged"],
          r["p50_s"] * 1000, r["p90_s"] * 1000, r["p99_s"] * 1000, r["max_s"] * 1000,
          r["tickets_per_s"]] for r in results],
        title=f"Discord intake, SQLite, {seconds:.0f} s per rate, triage cards "
              f"{'on' if args.triage else 'off'} (event -> acknowledgement posted)", digits=0))
    goal = next((r for r in results if r["rate_per_s"] == GOAL_RATE), None)
    if goal is not None:
        met = goal["p99_s"] < GOAL_P99_S and goal["acknowledged"] == goal["events"]
        print(f"\nGoal p99 < {GOAL_P99_S:.0f} s at {GOAL_RATE}/s: {'met' if met else 'NOT met'}")
    print()
    load_at_end = common.load_average()
    for result in results:
        common.emit({**result, "triage": args.triage, "machine": info,
                     "load_avg_at_end": load_at_end})
    return 0


if __name__ == "__main__":
    sys.exit(main())
