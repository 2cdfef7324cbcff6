"""A desk worker process for the exactly-once tests (run as a script, not collected by pytest).

    python tests/ledger/worker.py DATABASE_URL FAKE_URL MODE [options]

It builds what :mod:`bot.app` builds for delivery (Settings -> Database -> Desk, a
PromiseSweeper, an OutboxDispatcher with the dead-letter alerter) with an :class:`HttpChatAdapter` pointed at the
test's fake chat platform. Modes:

``run``
    Loop ``sweep()`` + ``drain()`` until, for 2 consecutive rounds, no promise is due
    or held and no outbox row is pending or held (or until ``--max-seconds``). Prints a
    JSON summary line ``{"covered": ..., "sent": ..., "rounds": ..., "idle": ...}``;
    exits 0 when the work ran out, 3 when the time ran out.
``claim-then-die``
    ``drain()`` once and SIGKILL itself at the first send, when every row of the batch
    is claimed and none is sent; prints how many it held.
``send-then-die``
    ``drain()`` once, sending every claimed row through the real adapter (so the
    idempotency keys are the real ones), and SIGKILL itself after the last send, before
    the dispatcher writes any outcome.
``send-some-then-die``
    ``drain()`` until ``--sends`` messages have gone out through the real adapter, then
    SIGKILL itself in the middle of a batch (rows of it sent with no outcome written,
    others claimed and not sent, later ones still pending): a crash mid-broadcast.
``claim-promises-then-die``
    Claim due promises with ``sweeper.claim()``, print how many, then SIGKILL itself.

``--ready-gate`` makes the worker print ``ready`` once it is connected and wait for a
line on stdin before it starts, so several workers can be released at the same moment.
``--clock-offset-seconds`` runs the worker on ``OffsetClock`` that far ahead (past a
dead worker's lease, for instance).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

# The repository root, so that ``tests.support`` imports when run as a script.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import and_, func, or_, select

from bot.clock import OffsetClock
from bot.core import Delivery, OutboundMessage
from bot.desk.policy import Desk
from bot.desk.alerts import dead_letter_alerter
from bot.desk.cards import CardRenderer
from bot.ledger.sweeper import PromiseSweeper
from bot.outbox.dispatcher import OutboxDispatcher
from bot.settings import Settings
from bot.storage.tables import OutboxRow, PromiseRow
from bot.storage.uow import Database
from tests.support.http_adapter import HttpChatAdapter

MODES = ("run", "claim-then-die", "send-then-die", "send-some-then-die",
         "claim-promises-then-die")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The worker's command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("fake_url")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--clock-offset-seconds", type=float, default=0.0)
    parser.add_argument("--lease-seconds", type=float, default=60.0)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--ready-gate", action="store_true")
    parser.add_argument("--sends", type=int, default=0)
    return parser.parse_args(argv)


async def outstanding(db: Database) -> int:
    """Work left for someone: promises due or held under a lease, outbox rows pending
    or held. (Follow-on promises due in the future are not work yet.)"""
    now = db.clock.now()
    async with db.unit_of_work() as uow:
        promises = (await uow.session.execute(select(func.count()).select_from(PromiseRow).where(
            or_(and_(PromiseRow.status == "pending", PromiseRow.due_at <= now),
                PromiseRow.status == "sending")))).scalar_one()
        outbox = (await uow.session.execute(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.status.in_(("pending", "sending"))))).scalar_one()
    return promises + outbox


async def held(db: Database) -> int:
    """Outbox rows held under a lease (by this worker: the crash tests run it alone)."""
    async with db.reading() as uow:
        return (await uow.session.execute(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.status == "sending"))).scalar_one()


class CrashingAdapter:
    """The real adapter in a process that dies mid-delivery: at the first send (every
    claimed row held, none sent), or right after the last claimed row is sent (none of
    their outcomes written: the dispatcher writes them with its next claim)."""

    def __init__(self, adapter: HttpChatAdapter, db: Database, *, after_sending: bool,
                 sends: int = 0) -> None:
        self.adapter = adapter
        self.platform = adapter.platform
        self.pacing = adapter.pacing
        self.db = db
        self.after_sending = after_sending
        self.sends = sends  # die after this many sends, whatever was claimed (0: off)
        self.sent = 0
        self._claimed: asyncio.Task | None = None

    async def start(self, dispatch) -> None:
        await self.adapter.start(dispatch)

    async def stop(self) -> None:
        await self.adapter.stop()

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        if self.sends:
            delivery = await self.adapter.send(message, idempotency_key=idempotency_key,
                                               attempt=attempt, since=since)
            self.sent += 1
            if self.sent >= self.sends:
                print(json.dumps({"sent": self.sent, "held": await held(self.db)}), flush=True)
                die()
            return delivery
        if self._claimed is None:  # lanes send at once: count the claim only once
            self._claimed = asyncio.create_task(held(self.db))
        claimed = await self._claimed
        if not self.after_sending:
            print(json.dumps({"claimed": claimed}), flush=True)
            die()
        delivery = await self.adapter.send(message, idempotency_key=idempotency_key,
                                           attempt=attempt)
        self.sent += 1
        if self.sent == claimed:
            print(json.dumps({"claimed": claimed, "sent": self.sent}), flush=True)
            die()
        return delivery


def die() -> None:
    """Crash the way a power cut or the OOM killer does: no cleanup, no finally blocks."""
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


async def wait_for_gate() -> None:
    """Say ``ready`` and block until the test writes a line to our stdin."""
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def main(args: argparse.Namespace) -> int:
    """Build the desk's delivery side and run ``args.mode``; returns the exit status."""
    clock = OffsetClock(timedelta(seconds=args.clock_offset_seconds))
    settings = Settings(database_url=args.database_url)
    db = Database.from_url(settings.database_url, clock)
    desk = Desk.from_settings(settings, clock)
    lease = timedelta(seconds=args.lease_seconds)
    adapter = HttpChatAdapter(args.fake_url, platform="test")
    if args.mode in ("claim-then-die", "send-then-die", "send-some-then-die"):
        adapter = CrashingAdapter(adapter, db, after_sending=args.mode == "send-then-die",
                                  sends=args.sends if args.mode == "send-some-then-die" else 0)
    await adapter.start(None)
    sweeper = PromiseSweeper(db, desk, batch_size=args.batch_size, lease=lease)
    dispatcher = OutboxDispatcher(db, {"test": adapter}, batch_size=args.batch_size, lease=lease,
                                  on_dead=dead_letter_alerter(desk),
                                  render_cards=CardRenderer(desk))
    db.deliver_outbox_to(dispatcher)
    try:
        await outstanding(db)  # connect (and fail here, not mid-run, if we cannot)
        if args.ready_gate:
            await wait_for_gate()
        if args.mode in ("claim-then-die", "send-then-die", "send-some-then-die"):
            while await dispatcher.drain():  # the adapter kills the process part-way
                pass
            print(json.dumps({"error": "nothing was claimed"}), flush=True)
            return 4
        if args.mode == "claim-promises-then-die":
            print(json.dumps({"claimed": len(await sweeper.claim())}), flush=True)
            die()
        return await run(args, db, sweeper, dispatcher)
    finally:
        await adapter.stop()
        await db.dispose()


async def run(args: argparse.Namespace, db: Database, sweeper: PromiseSweeper,
              dispatcher: OutboxDispatcher) -> int:
    """Sweep and drain until the work has run out twice in a row, or time is up."""
    started = time.monotonic()
    covered = sent = rounds = idle = 0
    while time.monotonic() - started < args.max_seconds:
        rounds += 1
        covered_now = await sweeper.sweep()
        sent_now = await dispatcher.drain()
        covered, sent = covered + covered_now, sent + sent_now
        if await outstanding(db):
            idle = 0
        else:
            idle += 1
            if idle >= 2:
                print(json.dumps({"covered": covered, "sent": sent, "rounds": rounds,
                                  "idle": idle}), flush=True)
                return 0
        if not (covered_now or sent_now):
            await asyncio.sleep(0.05)  # others hold the rest, or a retry is not due yet
    print(json.dumps({"covered": covered, "sent": sent, "rounds": rounds, "idle": idle,
                      "timed_out": True}), flush=True)
    return 3


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    sys.exit(asyncio.run(main(parse_args())))
