#!/usr/bin/env python
"""Benchmark of Slack intake: signed message events at rising rates, through the real
HTTP endpoint, to acknowledgements posted on a locally faked Web API.

    .venv/bin/python bench/slack_intake.py [--db sqlite|postgres|both] [--rates 10,25,50,100]
                                           [--seconds 20] [--triage] [--quick]

A child process runs the desk as it runs in production in HTTP mode: the real
``SlackAdapter`` (Bolt ``AsyncApp`` behind aiohttp on 127.0.0.1), router, handlers,
outbox dispatcher and ticker, on a fresh schema. This process plays Slack: the Web API
(``tests/support/slack/server.py``, with ``SLACK_API_URL`` pointing at it) and the Events
API, sending ``message.im`` events from a new person each (each opens a ticket), signed
over the exact bytes, at a steady rate per stage, concurrently as Slack does, with
Slack's 3 s timeout. For every stage it reports:

* HTTP acknowledgement latency p50/p99/max (request sent to 200 received);
* event-to-acknowledgement-posted latency p50/p99/max (request sent to the desk's
  ``chat.postMessage`` in that message's thread reaching the fake Web API);
* sustained tickets per second (acknowledgements posted / time from the stage's first
  event to its last acknowledgement), timeouts and failed requests.

A stage whose acknowledgements are not all posted within 60 s, or whose HTTP p99
exceeds 3 s, ends the run for that database. ``--triage`` adds a triage channel, so
every ticket also posts a card there (paced to one message a second in that channel).

PostgreSQL: ``HELPDESK_BENCH_POSTGRES_URL`` (default
postgresql://postgres@127.0.0.1:5432/helpdesk_bench), created when missing; the bench
uses its own schema ``slack_bench`` there and empties it. The last lines of the output
are one JSON object per line per database and stage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common as common  # noqa: E402
from bench._common import say  # noqa: E402

PG_SCHEMA = "slack_bench"
SECRET = "bench-signing-secret"
READY = "@@ready "
DRAIN_TIMEOUT = 60.0


async def serve_null_desk(api_url: str) -> None:
    """The adapter alone: every event is answered straight away with one post, no
    database. Its figures are the adapter's own ceiling."""
    from bot.core import OutboundMessage
    from bot.platforms.slack.adapter import SlackAdapter
    from bot.settings import Secret, Settings
    from bot.web import WebServer

    settings = Settings(slack_bot_token=Secret("xoxb-fake-bot-token"),
                        slack_signing_secret=Secret(SECRET), slack_api_url=api_url,
                        http_host="127.0.0.1", http_port=0)
    web = WebServer(settings.http_host, settings.http_port)
    adapter = SlackAdapter(settings, web=web)

    async def answer(event) -> None:
        await adapter.send(OutboundMessage(channel_id=event.channel_id, text="Thanks, got it.",
                                           thread_id=event.message_id),
                           idempotency_key=event.event_id)

    await web.start()
    await adapter.start(answer)
    print(READY + adapter.http.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await web.stop()
    await adapter.stop()
    print(READY + json.dumps({"peak_rss_mb": round(common.peak_rss_mb(), 1)}), flush=True)


async def serve_desk(db_url: str, api_url: str, triage: bool, handling: int | None,
                     migrate_first: bool = True) -> None:
    """Run the desk behind the Slack adapter until stdin closes."""

    from bot.platforms.slack.adapter import SlackAdapter
    from bot.clock import SystemClock
    from bot.desk.cards import CardRenderer
    from bot.desk.policy import Desk
    from bot.desk.features import register_all
    from bot.desk.router import Router
    from bot.ledger.sweeper import PromiseSweeper
    from bot.outbox.dispatcher import OutboxDispatcher
    from bot.ticker import Ticker
    from bot.settings import Secret, Settings
    from bot.storage import migrate
    from bot.storage.tables import ChannelConfigRow
    from bot.storage.uow import Database
    from bot.web import WebServer

    settings = Settings(database_url=db_url, slack_bot_token=Secret("xoxb-fake-bot-token"),
                        slack_signing_secret=Secret(SECRET), slack_api_url=api_url,
                        http_host="127.0.0.1", http_port=0)
    clock = SystemClock()
    db = Database.from_url(db_url, clock)
    common.use_schema(db.engine, PG_SCHEMA)
    if migrate_first:
        await migrate.upgrade(db.engine)
    desk = Desk.from_settings(settings, clock)
    router = Router(db, desk)
    register_all(router)
    web = WebServer(settings.http_host, settings.http_port)
    adapter = SlackAdapter(settings, clock=clock, web=web,
                           **({"max_handling": handling} if handling is not None else {}))
    dispatcher = OutboxDispatcher(db, {"slack": adapter}, render_cards=CardRenderer(desk))
    db.deliver_outbox_to(dispatcher)
    ticker = Ticker(1.0, dispatcher, PromiseSweeper(db, desk))
    if triage:
        async with db.unit_of_work() as uow:
            workspace = await uow.workspaces.ensure("slack", "T0TEAM", "T0TEAM", clock.now())
            uow.session.add(ChannelConfigRow(workspace_id=workspace.id, purpose="triage",
                                             channel_id="CTRIAGE", created_at=clock.now()))
    await web.start()
    await adapter.start(router)
    ticker.start()
    print(READY + adapter.http.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await web.stop()
    await ticker.stop()
    await adapter.stop()
    await db.dispose()
    print(READY + json.dumps({"peak_rss_mb": round(common.peak_rss_mb(), 1)}), flush=True)


# --------------------------------------------------------------------------- Slack (parent)


class Stage:
    """One rate held for a while: what was sent and when."""

    def __init__(self, rate: float, seconds: float) -> None:
        self.rate, self.seconds = rate, seconds
        self.sent: dict[str, float] = {}  # message ts -> monotonic send time
        self.acks: list[float] = []
        self.failed = 0
        self.timeouts = 0
        self.started = 0.0


async def run_stage(session, urls: list[str], fake, stage: Stage, counter) -> None:
    """Send ``rate`` events a second for ``seconds``, each from a new person, spread
    over the desks' URLs in turn (as a load balancer would)."""
    from tests.support.slack import events as payloads

    tasks = []
    stage.started = time.monotonic()
    total = int(stage.rate * stage.seconds)
    for index in range(total):
        delay = stage.started + index / stage.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        user = f"U{next(counter):08d}"
        ts = fake.next_ts()
        message = {"type": "message", "channel": f"D{user}", "user": user, "ts": ts,
                   "text": f"Request {index}: my laptop will not connect to the VPN"}
        body = json.dumps(payloads.event_callback(payloads.message_event(
            message, channel_type="im"), team="T0TEAM")).encode()
        url = urls[index % len(urls)]
        tasks.append(asyncio.create_task(send(session, url, body, ts, stage)))
    await asyncio.gather(*tasks)


async def send(session, url: str, body: bytes, ts: str, stage: Stage) -> None:
    """One signed delivery, timed like Slack times it."""
    from tests.support.slack.events import SLACK_TIMEOUT, sign

    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": sign(SECRET, stamp, body)}
    began = time.monotonic()
    stage.sent[ts] = began
    try:
        async with session.post(url, data=body, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT)) as response:
            await response.read()
            if response.status != 200:
                stage.failed += 1
                return
    except (asyncio.TimeoutError, TimeoutError):
        stage.timeouts += 1
        return
    except aiohttp.ClientError:
        stage.failed += 1
        return
    stage.acks.append(time.monotonic() - began)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def posted_at(fake) -> dict[str, float]:
    """When the acknowledgement in each message's thread reached the Web API."""
    return {c.args["thread_ts"]: c.at for c in fake.calls
            if c.method == "chat.postMessage" and c.status == 200 and c.args.get("thread_ts")}


async def wait_posted(fake, stage: Stage) -> dict[str, float]:
    """Until every event of the stage has its acknowledgement posted (or time runs out)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while True:
        posted = posted_at(fake)
        if all(ts in posted for ts in stage.sent) or time.monotonic() > deadline:
            return {ts: posted[ts] for ts in stage.sent if ts in posted}
        await asyncio.sleep(0.2)


def figures(db: str, stage: Stage, posted: dict[str, float]) -> dict[str, Any]:
    """A stage's figures, as one JSON-ready dict."""
    ack = common.summarize([a * 1000 for a in stage.acks])
    latency = [posted[ts] - stage.sent[ts] for ts in posted]
    post = common.summarize(latency)
    last = max(posted.values(), default=stage.started)
    sent = len(stage.sent)
    return {
        "bench": "slack_intake", "db": db, "rate_per_s": stage.rate, "seconds": stage.seconds,
        "events": sent, "acked": len(stage.acks), "timeouts": stage.timeouts,
        "failed": stage.failed, "posted": len(posted), "lost": sent - len(posted),
        "http_ack_ms_p50": ack["p50"], "http_ack_ms_p99": ack["p99"], "http_ack_ms_max": ack["max"],
        "posted_s_p50": post["p50"], "posted_s_p99": post["p99"], "posted_s_max": post["max"],
        "tickets_per_s": len(posted) / max(last - stage.started, 1e-9) if posted else 0.0,
    }


async def bench_database(db: str, args) -> list[dict[str, Any]]:
    """Start the fake Slack and the desk, run the stages, stop both."""
    from tests.support.slack.server import FakeSlack

    workdir = tempfile.mkdtemp(prefix="helpdesk-slack-bench-")
    db_url = {"sqlite": f"sqlite:///{workdir}/desk.sqlite3", "null": "null"}.get(db, args.pg_url)
    if db == "postgres":
        await common.prepare_postgres(args.pg_url, PG_SCHEMA)
    fake = await FakeSlack().start()
    fake.auto_users = True
    children, urls = [], []
    for number in range(1 if db == "null" else args.desks):
        # The first desk migrates (and sets up triage); the others start on its schema.
        first = number == 0
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--child", "--db-url", db_url,
            "--api-url", fake.api_url, *(["--triage"] if args.triage and first else []),
            *([] if first else ["--no-migrate"]),
            *(["--profile", f"{args.profile}.{db}.{number}"] if args.profile else []),
            *(["--max-handling", str(args.max_handling)] if args.max_handling is not None
              else []),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT)
        line = (await child.stdout.readline()).decode()
        if not line.startswith(READY):
            raise SystemExit(f"the desk did not start: {line!r}")
        children.append(child)
        urls.append(line[len(READY):].strip())
    results = []
    counter = iter(range(10**8))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for rate in args.rates:
            stage = Stage(rate, args.seconds)
            cpu_before = [cpu_seconds(c.pid) for c in children]
            await run_stage(session, urls, fake, stage, counter)
            result = figures(db, stage, await wait_posted(fake, stage))
            result["desks"] = len(children)
            cpu_after = [cpu_seconds(c.pid) for c in children]
            if None not in cpu_before + cpu_after and result["posted"]:
                # The desks' own CPU per ticket: one process uses at most one core.
                used = sum(cpu_after) - sum(cpu_before)
                result["desk_cpu_ms_per_ticket"] = used * 1000 / result["posted"]
            results.append(result)
            say(f"  {db:8} {rate:6.0f}/s  ack p50 {common.fmt(result['http_ack_ms_p50'])} ms, "
                f"p99 {common.fmt(result['http_ack_ms_p99'])} ms; posted p50 "
                f"{common.fmt(result['posted_s_p50'], 3)} s, p99 "
                f"{common.fmt(result['posted_s_p99'], 3)} s; "
                f"{common.fmt(result['tickets_per_s'], 1)} tickets/s; lost {result['lost']}; "
                f"desk CPU {common.fmt(result.get('desk_cpu_ms_per_ticket'), 1)} ms/ticket")
            if result["lost"] or result["timeouts"] or (result["http_ack_ms_p99"] or 0) > 3000:
                say(f"  {db}: stopping here (the desk no longer keeps up)")
                break
    peaks = []
    for child in children:
        child.stdin.close()
        tail = (await child.stdout.read()).decode().splitlines()
        await child.wait()
        peaks += [json.loads(t[len(READY):])["peak_rss_mb"] for t in tail if t.startswith(READY)]
    await fake.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    for result in results:
        result["desk_peak_rss_mb"] = max(peaks, default=None)
    return results


def goals(results: list[dict[str, Any]]) -> str:
    """The issue's goals, met or not (a stage the run stopped before counts as not met)."""
    rows = []
    for db, rate, checks in (
        ("sqlite", 50, (("HTTP ack p99 < 100 ms", "http_ack_ms_p99",
                         lambda r: r["http_ack_ms_p99"] < 100),
                        ("event-to-posted p99 < 1 s", "posted_s_p99",
                         lambda r: r["lost"] == 0 and r["posted_s_p99"] < 1))),
        ("postgres", 100, (("sustained (tickets/s)", "tickets_per_s",
                            lambda r: r["lost"] == 0 and r["tickets_per_s"] >= 95),
                           ("no HTTP ack slower than 3 s (max ms)", "http_ack_ms_max",
                            lambda r: r["timeouts"] == 0 and r["http_ack_ms_max"] < 3000)))):
        ran = [r for r in results if r["db"] == db]
        if not ran:
            continue
        stage = next((r for r in ran if r["rate_per_s"] == rate), None)
        for label, key, check in checks:
            if stage is None:
                rows.append([db, f"{label} at {rate}/s", "not reached", False])
            else:
                rows.append([db, f"{label} at {rate}/s", stage[key], bool(check(stage))])
    return common.table(["db", "goal", "measured", "met"], rows, title="Goals")


def main(argv=None) -> int:
    """Parse the command line and run (the child runs the desk)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both", "none"], default="both",
                        help="'none' runs the adapter alone, answering each event with one "
                             "post and no database: the adapter's own ceiling")
    parser.add_argument("--rates", default="10,25,50,75,100,150,200",
                        help="events per second, one stage each (default 10,...,200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each stage")
    parser.add_argument("--quick", action="store_true", help="5 s stages, rates up to 100/s")
    parser.add_argument("--triage", action="store_true", help="also post a card per ticket")
    parser.add_argument("--pg-url", default=os.environ.get("HELPDESK_BENCH_POSTGRES_URL",
                                                           common.DEFAULT_PG_URL))
    parser.add_argument("--desks", type=int, default=1,
                        help="desk processes sharing the database, events spread over them "
                             "as by a load balancer (HTTP mode scales out this way)")
    parser.add_argument("--no-migrate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--max-handling", type=int, default=None,
                        help="SlackAdapter(max_handling=...): events the desk handles at once "
                             "(0: no cap; default: the adapter's, 4)")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile of the desk process to FILE")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.child:
        serve = (serve_null_desk(args.api_url) if args.db_url == "null"
                 else serve_desk(args.db_url, args.api_url, args.triage, args.max_handling,
                                 migrate_first=not args.no_migrate))
        if args.profile:
            import cProfile
            cProfile.runctx("asyncio.run(serve)", globals(), {"serve": serve, "asyncio": asyncio},
                            args.profile)
        else:
            asyncio.run(serve)
        return 0
    if args.quick:
        args.rates, args.seconds = "10,50,100", 5.0
    args.rates = [float(r) for r in args.rates.split(",")]
    dbs = {"both": ["sqlite", "postgres"], "none": ["null"]}.get(args.db, [args.db])
    say("Slack intake benchmark (bench/slack_intake.py)")
    say(f"command: {' '.join([Path(sys.executable).name, 'bench/slack_intake.py'] + sys.argv[1:])}")
    info = common.machine(packages=(
        "slack_bolt", "slack_sdk", "aiohttp", "sqlalchemy", "aiosqlite", "asyncpg"))
    say(common.describe_machine(info))
    results: list[dict[str, Any]] = []
    for db in dbs:
        try:
            results += asyncio.run(bench_database(db, args))
        except (OSError, SystemExit) as error:
            say(f"!! {db}: {error}")
    say("\n" + common.table(
        ["db", "rate/s", "events", "ack p50 ms", "ack p99 ms", "ack max ms", "posted p50 s",
         "posted p99 s", "posted max s", "tickets/s", "timeouts", "lost", "CPU ms/ticket"],
        [[r["db"], r["rate_per_s"], r["events"], r["http_ack_ms_p50"], r["http_ack_ms_p99"],
          r["http_ack_ms_max"], r["posted_s_p50"], r["posted_s_p99"], r["posted_s_max"],
          r["tickets_per_s"], r["timeouts"], r["lost"], r.get("desk_cpu_ms_per_ticket")]
         for r in results], digits=3))
    say("\n" + goals(results))
    load_at_end = common.load_average()
    for result in results:
        common.emit({**result, "load_avg_at_start": info["load_avg_at_start"],
                     "load_avg_at_end": load_at_end})
    return 0


if __name__ == "__main__":
    sys.exit(main())
