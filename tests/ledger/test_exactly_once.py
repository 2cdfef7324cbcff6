"""Exactly once, across processes and crashes, against a fake chat platform over real HTTP.

The fake (:class:`tests.support.fake_chat.FakeChat`) serves from the test's own event
loop while desk workers (``tests/ledger/worker.py``) run as separate processes,
started with ``asyncio.create_subprocess_exec`` so the loop keeps serving them. Every
subprocess has a timeout. What is checked is what a requester would see: one message
per promise or outbox row, never two, whatever the workers do or however they die.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from bot.core import DeliveryError, OutboundMessage
from bot.desk.policy import Desk
from bot.domain.people import Role
from bot.domain.promises import PromiseKind
from bot.ledger.sweeper import PromiseSweeper
from bot.outbox.dispatcher import OutboxDispatcher
from bot.outbox.pacing import Pacing
from bot.settings import Settings
from bot.storage.tables import OutboxRow, PromiseRow, TicketRow, WorkspaceRow
from bot.storage.uow import Database
from tests.support.fake_chat import FakeChat
from tests.support.harness import WORKSPACE, reset_schema
from tests.support.http_adapter import HttpChatAdapter

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")
# Past the default 60-second lease, so a later worker may take over a dead one's rows.
PAST_THE_LEASE = "120"
HELP_CHANNEL = "C-help"
# The thousand-promise runs take 15-20 s on a quiet 2-core machine; the generous
# limits only keep a busy machine from failing them (a hang still fails, later).
BIG_RUN = ("--batch-size", "50", "--max-seconds", "150")
# SQLite hands its one write lock to whichever process asks at the right moment, and a
# process that finishes a batch asks again at once; with large batches one process can
# cover all thousand before the other's busy handler wakes in a gap. Small batches make
# many gaps, so both get a share (the test checks that they did).
SQLITE_RUN = ("--batch-size", "2", "--max-seconds", "150")


# -- helpers ---------------------------------------------------------------------------


@pytest.fixture
async def fake():
    """A running fake chat platform on 127.0.0.1."""
    async with FakeChat() as chat:
        yield chat


async def fresh_database(url: str) -> tuple[Database, int, int]:
    """An empty schema with one workspace, requester Ann and agent Alex.
    Returns the database, the workspace id and Alex's person id."""
    db = Database.from_url(url)
    await reset_schema(db)
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        ws = await uow.workspaces.ensure("test", WORKSPACE, "Test", now)
        await uow.people.ensure(ws.id, "ann", "Ann", now)
        alex = await uow.people.ensure(ws.id, "alex", "Alex", now)
        await uow.people.record_role(alex.id, Role.AGENT)
    return db, ws.id, alex.id


async def seed_due_followups(url: str, count: int) -> Database:
    """``count`` tickets owned by Alex, each with a FOLLOW_UP promise that fell due an
    hour ago; ticket ``n`` lives in thread ``t{n}`` of the help channel."""
    db, ws, alex = await fresh_database(url)
    now = datetime.now(UTC)
    due = now - timedelta(hours=1)
    async with db.unit_of_work() as uow:
        ann = await uow.people.find(ws, "ann")
        await uow.session.execute(insert(TicketRow), [{
            "workspace_id": ws, "number": n, "requester_id": ann.id, "owner_id": alex,
            "status": "in_progress", "priority": "P3", "subject": f"Problem {n}",
            "first_message": f"Problem {n}", "channel_id": HELP_CHANNEL, "thread_id": f"t{n}",
            "in_a_hurry": False, "created_at": due - timedelta(hours=1), "updated_at": due,
            "first_response_at": due - timedelta(minutes=30)} for n in range(1, count + 1)])
        await uow.session.execute(update(WorkspaceRow).where(WorkspaceRow.id == ws)
                                  .values(next_ticket_number=count + 1))
        tickets = (await uow.session.execute(select(TicketRow.id))).scalars().all()
        await uow.session.execute(insert(PromiseRow), [{
            "workspace_id": ws, "ticket_id": ticket, "kind": PromiseKind.FOLLOW_UP.value,
            "owner_id": alex, "text": "", "made_at": due - timedelta(minutes=30), "due_at": due,
            "status": "pending", "misses_in_row": 0, "step": 0, "attempts": 0}
            for ticket in tickets])
    return db


async def seed_outbox(url: str, count: int) -> Database:
    """``count`` pending outbox rows, row ``n`` for thread ``t{n}`` of the help channel."""
    db, ws, _ = await fresh_database(url)
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        for n in range(1, count + 1):
            await uow.outbox.add(ws, "test", OutboundMessage(
                channel_id=HELP_CHANNEL, thread_id=f"t{n}", text=f"Update {n}"), now)
    return db


async def rows(db: Database, table) -> list:
    """Every row of ``table``, by id."""
    async with db.unit_of_work() as uow:
        return list((await uow.session.execute(select(table).order_by(table.id))).scalars())


class Worker:
    """One worker process; output is collected when it ends."""

    def __init__(self, process: asyncio.subprocess.Process, args: tuple[str, ...]) -> None:
        self.process, self.args = process, args
        self.returncode: int | None = None
        self.stdout = self.stderr = ""

    @classmethod
    async def start(cls, url: str, fake: FakeChat, mode: str, *options: str) -> Worker:
        """Start ``worker.py url fake.url mode options...``."""
        args = (str(WORKER), url, fake.url, mode, *options)
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        return cls(process, args)

    async def wait_ready(self, timeout: float = 30) -> None:
        """Wait for a gated worker's ``ready`` line."""
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            await self.kill()
            pytest.fail(f"worker {self.args} was not ready within {timeout} s")
        if line.strip() != b"ready":
            await self.finish(timeout)
            pytest.fail(f"worker {self.args} said {line!r}, not ready: {self.stderr}")

    def go(self) -> None:
        """Release a gated worker."""
        self.process.stdin.write(b"go\n")

    async def finish(self, timeout: float = 60) -> Worker:
        """Wait for the worker to end (killing it after ``timeout`` s) and keep its output."""
        try:
            out, err = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError:
            await self.kill()
            out, err = await asyncio.wait_for(self.process.communicate(), 10)
            pytest.fail(f"worker {self.args} did not finish within {timeout} s:\n"
                        f"{out.decode()}\n{err.decode()[-3000:]}")
        self.returncode = self.process.returncode
        self.stdout, self.stderr = out.decode(), err.decode()
        return self

    async def kill(self) -> None:
        """Kill this worker (only this process, by its own handle)."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    @property
    def summary(self) -> dict:
        """The JSON line the worker printed last."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        assert lines, f"worker printed no summary; stderr:\n{self.stderr}"
        return json.loads(lines[-1])

    def assert_clean_exit(self) -> None:
        """Exit status 0 and nothing alarming logged."""
        assert self.returncode == 0, f"exit {self.returncode}:\n{self.stdout}\n{self.stderr}"
        assert "Traceback" not in self.stderr and "ERROR" not in self.stderr, self.stderr

    def assert_killed(self) -> None:
        """The worker died by its own SIGKILL, as the crash modes do."""
        assert self.returncode == -signal.SIGKILL, f"exit {self.returncode}:\n{self.stderr}"


async def run_workers(url: str, fake: FakeChat, count: int, *options: str,
                      timeout: float = 180) -> list[Worker]:
    """Start ``count`` gated workers, release them together and wait for all of them."""
    workers = [await Worker.start(url, fake, "run", "--ready-gate", *options)
               for _ in range(count)]
    try:
        for worker in workers:
            await worker.wait_ready()
        for worker in workers:
            worker.go()
        for worker in workers:
            await worker.finish(timeout)
    finally:
        for worker in workers:
            await worker.kill()
    return workers


async def assert_each_followup_covered_once(db: Database, fake: FakeChat, count: int) -> None:
    """One requester update per ticket, and each ticket in exactly one reminder to Alex
    (a batch's reminders come as one message), nothing twice; the ledger shows every
    promise missed with its cover and every outbox row sent."""
    threads = Counter(m.thread for m in fake.in_threads(HELP_CHANNEL))
    assert threads == Counter({f"t{n}": 1 for n in range(1, count + 1)})
    assert all(m.text.startswith("Sorry, this update on #")
               for m in fake.in_threads(HELP_CHANNEL))
    reminders = [m for m in fake.accepted if m.direct_to == "alex"]
    assert reminded_tickets(reminders) == Counter({f"#{n}": 1 for n in range(1, count + 1)})
    keys = fake.key_counts()
    sent = count + len(reminders)
    assert len(fake.accepted) == sent and len(keys) == sent
    assert max(keys.values()) == 1 and fake.dedup_hits == 0

    promise_rows = await rows(db, PromiseRow)
    originals = [p for p in promise_rows if p.parent_id is None]
    assert len(originals) == count
    assert {(p.status, p.resolution) for p in originals} == {("missed", "bot")}
    assert all(p.cover_outbox_id is not None for p in originals)
    follow_ons = [p for p in promise_rows if p.parent_id is not None]
    assert sorted(p.parent_id for p in follow_ons) == sorted(p.id for p in originals)
    assert {p.status for p in follow_ons} == {"pending"}
    # Each promise's cover is exactly the update its requester received.
    covers = {f"hd-{p.cover_outbox_id}" for p in originals}
    assert covers == {m.key for m in fake.in_threads(HELP_CHANNEL)}
    outbox = await rows(db, OutboxRow)
    assert len(outbox) == sent and {r.status for r in outbox} == {"sent"}


def reminded_tickets(reminders) -> Counter:
    """How often each ticket is named in ``reminders``, alone or as a line of a list."""
    named: Counter = Counter()
    for message in reminders:
        lines = message.text.splitlines()
        listed = [line for line in lines if line.startswith("• ")] or lines[:1]
        named.update(re.search(r"(#\d+) for Ann", line).group(1) for line in listed)
    return named


# -- the fake and the adapter ----------------------------------------------------------


async def test_the_fake_deduplicates_by_key_and_the_adapter_maps_failures(fake):
    adapter = HttpChatAdapter(fake.url, pacing=Pacing(per_channel=1))
    assert adapter.pacing == Pacing(per_channel=1)
    await adapter.start(None)
    try:
        message = OutboundMessage(channel_id="C1", thread_id="t1", text="hello")
        first = await adapter.send(message, idempotency_key="hd-1")
        again = await adapter.send(message, idempotency_key="hd-1")
        assert again.message_id == first.message_id and first.thread_id == "t1"
        assert len(fake.accepted) == 1 and fake.dedup_hits == 1

        fake.throttle_next(1, 0.25)
        with pytest.raises(DeliveryError) as limited:
            await adapter.send(message, idempotency_key="hd-2")
        assert limited.value.retry_after == 0.25 and fake.rate_limited == 1

        with pytest.raises(DeliveryError) as refused:  # no channel and no person: a 400
            await adapter.send(OutboundMessage(channel_id="", text="x"), idempotency_key="hd-3")
        assert refused.value.retry_after is None and refused.value.permanent

        dm = await adapter.send(OutboundMessage(channel_id="", direct_to="alex", text="hi"),
                                idempotency_key="hd-4")
        assert fake.accepted[-1].destination == "@alex" and dm.message_id == fake.accepted[-1].id
        assert [m.key for m in fake.accepted] == ["hd-1", "hd-4"]
    finally:
        await adapter.stop()
    await fake.stop()
    await adapter.start(None)
    try:
        with pytest.raises(DeliveryError) as down:  # the platform is unreachable
            await adapter.send(OutboundMessage(channel_id="C1", text="x"), idempotency_key="hd-5")
        assert not down.value.permanent and down.value.retry_after is None
    finally:
        await adapter.stop()


# -- many processes share the ledger -----------------------------------------------------


@pytest.mark.postgres
async def test_three_processes_on_postgres_cover_a_thousand_promises_exactly_once(
        postgres_url, fake):
    db = await seed_due_followups(postgres_url, 1000)
    try:
        workers = await run_workers(postgres_url, fake, 3, *BIG_RUN)
        for worker in workers:
            worker.assert_clean_exit()
        assert sum(w.summary["covered"] for w in workers) == 1000
        assert sum(w.summary["sent"] for w in workers) == len(fake.accepted)
        assert sum(1 for w in workers if w.summary["covered"]) >= 2, "no sharing happened"
        await assert_each_followup_covered_once(db, fake, 1000)
    finally:
        await db.dispose()


async def test_two_processes_on_sqlite_cover_a_thousand_promises_exactly_once(
        tmp_path, fake):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    db = await seed_due_followups(url, 1000)
    try:
        workers = await run_workers(url, fake, 2, *SQLITE_RUN)
        for worker in workers:
            worker.assert_clean_exit()
        assert sum(w.summary["covered"] for w in workers) == 1000
        assert sum(w.summary["sent"] for w in workers) == len(fake.accepted)
        assert all(w.summary["covered"] for w in workers), "no sharing happened"
        await assert_each_followup_covered_once(db, fake, 1000)
    finally:
        await db.dispose()


# -- crashes ---------------------------------------------------------------------------


async def test_a_worker_killed_right_after_claiming_leaves_leases_a_later_worker_honours(
        db_url, fake):
    db = await seed_outbox(db_url, 20)
    try:
        crashed = await (await Worker.start(db_url, fake, "claim-then-die")).finish()
        crashed.assert_killed()
        assert crashed.summary == {"claimed": 20}
        held = await rows(db, OutboxRow)
        now = datetime.now(UTC)
        assert {r.status for r in held} == {"sending"} and fake.accepted == []
        assert all(r.claim_token and now < r.lease_until <= now + timedelta(seconds=61)
                   for r in held)

        # Inside the lease nobody else may take them, even when told leases expired...
        other = OutboxDispatcher(db, {"test": HttpChatAdapter(fake.url)})
        other.wake(leases_expired=True)
        assert await other.drain(probe=False) == 0 and fake.accepted == []
        assert {(r.claim_token, r.lease_until) for r in await rows(db, OutboxRow)} == {
            (r.claim_token, r.lease_until) for r in held}
        # ... and once it has expired, the next worker delivers each row once.
        later = await (await Worker.start(db_url, fake, "run", "--clock-offset-seconds",
                                          PAST_THE_LEASE)).finish()
        later.assert_clean_exit()
        assert later.summary["sent"] == 20
        assert Counter(m.thread for m in fake.accepted) == Counter(
            {f"t{n}": 1 for n in range(1, 21)})
        assert max(fake.key_counts().values()) == 1 and fake.dedup_hits == 0
        # The adapter heard that this was a second attempt (the first may have gone out).
        assert {m.attempt for m in fake.accepted} == {2}
        done = await rows(db, OutboxRow)
        by_key = {m.key: m.id for m in fake.accepted}
        assert all(r.status == "sent" and r.result_message_id == by_key[f"hd-{r.id}"]
                   for r in done)
    finally:
        await db.dispose()


async def test_a_worker_killed_after_sending_is_deduplicated_when_the_row_is_sent_again(
        db_url, fake):
    db = await seed_outbox(db_url, 20)
    try:
        crashed = await (await Worker.start(db_url, fake, "send-then-die")).finish()
        crashed.assert_killed()
        assert crashed.summary == {"claimed": 20, "sent": 20}
        assert len(fake.accepted) == 20
        first_ids = {m.key: m.id for m in fake.accepted}
        assert {r.status for r in await rows(db, OutboxRow)} == {"sending"}

        later = await (await Worker.start(db_url, fake, "run", "--clock-offset-seconds",
                                          PAST_THE_LEASE)).finish()
        later.assert_clean_exit()
        assert fake.dedup_hits == 20  # every re-send reused its row's key
        assert len(fake.accepted) == 20 and max(fake.key_counts().values()) == 1
        done = await rows(db, OutboxRow)
        assert all(r.status == "sent" and r.result_message_id == first_ids[f"hd-{r.id}"]
                   for r in done)
    finally:
        await db.dispose()


async def test_a_sweeper_killed_after_claiming_promises_leaves_them_to_a_later_worker(
        db_url, fake):
    db = await seed_due_followups(db_url, 20)
    try:
        crashed = await (await Worker.start(db_url, fake, "claim-promises-then-die")).finish()
        crashed.assert_killed()
        assert crashed.summary == {"claimed": 20}
        assert {p.status for p in await rows(db, PromiseRow)} == {"sending"}
        assert await rows(db, OutboxRow) == []
        desk = Desk.from_settings(Settings(database_url=db_url), db.clock)
        assert await PromiseSweeper(db, desk).claim() == []  # leased: not before it expires

        later = await (await Worker.start(db_url, fake, "run", "--clock-offset-seconds",
                                          PAST_THE_LEASE)).finish()
        later.assert_clean_exit()
        assert later.summary["covered"] == 20
        await assert_each_followup_covered_once(db, fake, 20)
    finally:
        await db.dispose()


# -- rate limits -------------------------------------------------------------------------


async def drain_until_done(db: Database, dispatcher: OutboxDispatcher, *,
                           limit: float = 30.0) -> None:
    """Drain in real time until no outbox row is pending or held, for at most ``limit`` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        await dispatcher.drain()
        async with db.unit_of_work() as uow:
            left = (await uow.session.execute(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.status.in_(("pending", "sending"))))).scalar_one()
        if not left:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"outbox not drained within {limit} s")


async def test_a_burst_of_429s_delays_but_loses_or_doubles_nothing_and_pacing_holds(
        db_url, fake):
    db, ws, _ = await fresh_database(db_url)
    adapter = HttpChatAdapter(fake.url, pacing=Pacing(per_channel=5))
    await adapter.start(None)
    try:
        now = datetime.now(UTC)
        async with db.unit_of_work() as uow:
            for n in range(40):
                await uow.outbox.add(ws, "test", OutboundMessage(
                    channel_id=f"C{n % 4 + 1}", text=f"Update {n}"), now)
        fake.throttle_next(30, 0.2)
        dispatcher = OutboxDispatcher(db, {"test": adapter})
        db.deliver_outbox_to(dispatcher)
        await drain_until_done(db, dispatcher)

        assert fake.rate_limited == 30
        assert len(fake.accepted) == 40 and max(fake.key_counts().values()) == 1
        assert fake.dedup_hits == 0
        outbox = await rows(db, OutboxRow)
        assert {r.status for r in outbox} == {"sent"}
        assert {r.attempts for r in outbox} == {1}  # a 429 is not the row's fault
        for channel in ("C1", "C2", "C3", "C4"):
            arrivals = fake.arrivals(channel)
            assert len(arrivals) == 10
            gaps = [b - a for a, b in itertools.pairwise(arrivals)]
            # Sends leave 0.2 s apart; arrivals also carry each request's own latency,
            # which varies with the other channels' requests in flight on a busy machine.
            # Unpaced, these posts would arrive milliseconds apart.
            assert min(gaps) >= 0.1, f"{channel} was posted to {min(gaps):.3f} s apart"
            assert sum(gaps) / len(gaps) >= 0.2 - 0.02, f"{channel} averaged under 5/s"
    finally:
        await adapter.stop()
        await db.dispose()


async def test_a_channel_that_keeps_answering_429_holds_up_nothing_else_and_kills_no_row(
        sqlite_url, fake):
    db, ws, _ = await fresh_database(sqlite_url)
    adapter = HttpChatAdapter(fake.url)
    await adapter.start(None)
    try:
        now = datetime.now(UTC)
        async with db.unit_of_work() as uow:
            for n in range(10):
                await uow.outbox.add(ws, "test", OutboundMessage(
                    channel_id="C-busy" if n % 2 else "C-calm", text=f"Update {n}"), now)
        fake.throttle("C-busy", 0.05)
        dispatcher = OutboxDispatcher(db, {"test": adapter})
        db.deliver_outbox_to(dispatcher)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            await dispatcher.drain()
            await asyncio.sleep(0.01)
        assert [m.channel for m in fake.accepted] == ["C-calm"] * 5
        busy = [r for r in await rows(db, OutboxRow) if r.status != "sent"]
        assert len(busy) == 5 and {(r.status, r.attempts) for r in busy} == {("pending", 0)}
        assert fake.rate_limited >= 10  # retried again and again, never given up

        fake.release("C-busy")
        await drain_until_done(db, dispatcher, limit=10)
        assert Counter(m.channel for m in fake.accepted) == Counter({"C-calm": 5, "C-busy": 5})
        assert max(fake.key_counts().values()) == 1
    finally:
        await adapter.stop()
        await db.dispose()
