"""Where the counters move: deliveries by outcome, a ticket counted only once its
opening commits, each App counting on a registry of its own."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import event

from bot.app import App
from bot.clock import OffsetClock
from bot.core import DeliveryError, OutboundMessage
from bot.metrics import Metrics
from bot.outbox.dispatcher import OutboxDispatcher, RetryPolicy
from bot.settings import Settings
from bot.storage.uow import Database
from tests.support.harness import reset_schema
from tests.support.recording import RecordingAdapter
from tests.web.process import sample


async def queued(url: str, count: int) -> Database:
    db = Database.from_url(url, OffsetClock())
    await reset_schema(db)
    now = db.clock.now()
    async with db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("test", "T1", "T1", now)
        for n in range(count):
            await uow.outbox.add(workspace.id, "test",
                                 OutboundMessage(channel_id=f"C{n}", text=f"{n}"), now)
    return db


def deliveries(metrics: Metrics, outcome: str) -> float | None:
    return sample(metrics.render().decode(), "helpdesk_deliveries_total", platform="test",
                  outcome=outcome)


async def test_each_delivery_attempt_is_counted_by_what_it_came_to(sqlite_url):
    db = await queued(sqlite_url, 4)
    adapter, metrics = RecordingAdapter(), Metrics()
    metrics.prepare(["test"])
    adapter.failures = [DeliveryError("slow down", retry_after=5.0),
                        DeliveryError("flaky"),
                        DeliveryError("channel_not_found", permanent=True)]
    dispatcher = OutboxDispatcher(db, {"test": adapter}, metrics=metrics, concurrency=1,
                                  retry=RetryPolicy(base=timedelta(seconds=1)))
    try:
        await dispatcher.drain()
        assert {o: deliveries(metrics, o) for o in ("sent", "retried", "rate_limited", "dead")} \
            == {"sent": 1, "retried": 1, "rate_limited": 1, "dead": 1}
        db.clock.advance(timedelta(seconds=10))  # the two re-scheduled rows go out
        await dispatcher.drain()
        assert deliveries(metrics, "sent") == 3
    finally:
        await db.dispose()


async def test_a_ticket_is_counted_when_its_opening_commits_and_not_when_it_rolls_back(
        sqlite_url):
    app = App(Settings(database_url=sqlite_url), console=True, stdin=io.StringIO(""),
              stdout=io.StringIO())
    await app.start()
    try:
        opened = lambda: sample(app.metrics.render().decode(),  # noqa: E731
                                "helpdesk_tickets_opened_total", platform="console")
        await app.console.handle_line("My printer is on fire")
        assert opened() == 1
        # The same opening, rolled back at the commit: nothing opened, nothing counted.
        armed = fail_commit(app.db)
        await app.console.handle_line("/ticket new My screen is blank")
        assert armed == [False]  # the second opening did fail at its commit
        assert opened() == 1
        await app.console.handle_line("/ticket new My keyboard is sticky")  # this one counts
        assert opened() == 2
    finally:
        await app.stop()


def fail_commit(db: Database) -> list[bool]:
    """Make the next transaction that inserts a ticket fail as it commits."""
    armed = [True]

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def on_execute(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO TICKETS"):
            connection.info["opened_ticket"] = True

    @event.listens_for(db.engine.sync_engine, "commit")
    def on_commit(connection):
        if connection.info.pop("opened_ticket", False) and armed[0]:
            armed[0] = False
            raise RuntimeError("the disk is full")

    return armed


async def test_a_promise_kept_by_a_person_is_counted_by_its_kind(sqlite_url):
    app = App(Settings(database_url=sqlite_url), console=True, stdin=io.StringIO(""),
              stdout=io.StringIO())
    await app.start()
    try:
        kept = lambda: sample(app.metrics.render().decode(),  # noqa: E731
                              "helpdesk_promises_kept_total", kind="first_response",
                              by="person")
        await app.console.handle_line("My printer is on fire")
        assert kept() is None
        await app.console.handle_line("/as agent")
        await app.console.handle_line("/ticket claim 1")  # a claim keeps the first response
        assert kept() == 1
    finally:
        await app.stop()


async def test_two_apps_in_one_process_count_apart(tmp_path):
    first = App(Settings(database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}"), console=True,
                stdin=io.StringIO(""), stdout=io.StringIO())
    second = App(Settings(database_url=f"sqlite:///{tmp_path / 'b.sqlite3'}"), console=True,
                 stdin=io.StringIO(""), stdout=io.StringIO())
    assert first.metrics.registry is not second.metrics.registry
    first.metrics.ticket_opened("console")
    assert sample(second.metrics.render().decode(), "helpdesk_tickets_opened_total",
                  platform="console") == 0
    await first.db.dispose()
    await second.db.dispose()


async def test_a_message_held_back_by_rate_limits_ages_from_when_it_was_first_due(sqlite_url):
    """Each 429 pushes the row's due time forward without spending an attempt; the
    backlog gauge still counts from when the message was first due, so the
    HelpdeskOutboxBackingUp alert fires for a message stuck behind rate limits."""
    from bot.storage.health import shared_numbers
    db = await queued(sqlite_url, 1)
    adapter = RecordingAdapter()
    adapter.failures = [DeliveryError("slow down", retry_after=60.0) for _ in range(5)]
    dispatcher = OutboxDispatcher(db, {"test": adapter}, concurrency=1)
    try:
        for _ in range(5):
            await dispatcher.drain()
            db.clock.advance(timedelta(seconds=61))
        numbers = await shared_numbers(db)
        assert numbers.outbox_pending == 1
        # measured from when it was first due, not from its latest re-scheduled due time
        assert 5 * 61 <= numbers.oldest_pending_seconds < 6 * 61
    finally:
        await db.dispose()


async def test_a_message_scheduled_for_later_is_not_counted_as_waiting(sqlite_url):
    from bot.storage.health import shared_numbers
    db = Database.from_url(sqlite_url, OffsetClock())
    await reset_schema(db)
    now = db.clock.now()
    async with db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("test", "T1", "T1", now)
        await uow.outbox.add(workspace.id, "test", OutboundMessage(channel_id="C", text="x"),
                             now, due_at=now + timedelta(hours=1))
    try:
        assert (await shared_numbers(db)).oldest_pending_seconds == 0
        db.clock.advance(timedelta(hours=1, seconds=30))
        assert 30 <= (await shared_numbers(db)).oldest_pending_seconds < 3600
    finally:
        await db.dispose()


async def test_the_inbox_gauges_show_events_a_dead_instance_left(sqlite_url):
    """An instance that dies leaves the events it acknowledged in the inbox: the gauges
    every instance reports show how many and how long they have waited, and fall back
    to 0 once another instance has handled them."""
    from bot.storage.health import shared_numbers
    from bot.storage.inbox import DurableInbox
    db = await queued(sqlite_url, 0)
    try:
        dead = DurableInbox(db)
        for key in ("Ev1", "Ev2"):
            assert await dead.keep("slack", key, "{}")
        db.clock.advance(timedelta(seconds=40))
        numbers = await shared_numbers(db)
        assert numbers.inbox_waiting == 2 and 40 <= numbers.inbox_oldest_seconds < 50
        text = Metrics().render(numbers).decode()
        assert sample(text, "helpdesk_inbox_waiting") == 2
        assert sample(text, "helpdesk_inbox_oldest_seconds") == numbers.inbox_oldest_seconds
        for key in ("Ev1", "Ev2"):
            await DurableInbox(db).done("slack", key)
        numbers = await shared_numbers(db)
        assert (numbers.inbox_waiting, numbers.inbox_oldest_seconds) == (0, 0.0)
    finally:
        await db.dispose()
