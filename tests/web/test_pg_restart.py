"""Issue 18: PostgreSQL restarted under traffic (``pg_ctlcluster ... restart``).

The whole desk behind the real Slack adapter (HTTP mode, with the inbox), on a
PostgreSQL database of the run's own: 500 requesters have tickets whose first-response
promises are all due, and 500 more write in while the cluster restarts. Slack retries
what the desk refused (503) as it would. Afterwards every event has become exactly one
ticket with exactly one acknowledgement, and every due promise was covered exactly once.

It restarts the machine's PostgreSQL, which every test run on it shares: it runs only
with HELPDESK_TEST_PG_RESTART=1 (and HELPDESK_TEST_POSTGRES_URL), as root, where
``pg_ctlcluster`` is (see docs/operations.md for how CI runs it).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.storage.tables import PromiseRow, TicketRow
from tests.support.slack import events as payloads
from tests.support.slack.desk import SlackDesk

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(os.environ.get("HELPDESK_TEST_PG_RESTART") != "1",
                       reason="restarts the machine's PostgreSQL: HELPDESK_TEST_PG_RESTART=1"),
]

CLUSTER = os.environ.get("HELPDESK_TEST_PG_CLUSTER", "15 main").split()
EVENTS = PROMISES = 500


def restart_postgres() -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *CLUSTER, "restart"],
                   check=True, timeout=60)


async def send_like_slack(desk, body: dict) -> None:
    """Deliver until acknowledged, as Slack retries (here every 3 s for half a minute,
    not after 1 and 5 minutes)."""
    for retry in (None, 1, 2, *[3] * 9):
        result = await desk.sender.event(body, retry_num=retry)
        if result.status == 200:
            return
        await asyncio.sleep(3)
    raise AssertionError(f"event {body['event_id']} was never acknowledged")


async def keep_working(desk, stop: asyncio.Event) -> None:
    """The ticker's work (sweep, deliver, take over the inbox), through the restart."""
    while not stop.is_set():
        for step in (desk.sweeper.sweep, desk.dispatcher.drain, desk.inbox.tick):
            try:
                await step()
            except Exception:  # the database is away for a moment; the next round retries
                await asyncio.sleep(0.2)
        await asyncio.sleep(0.05)


async def count(desk, statement) -> int:
    for _ in range(50):
        try:
            async with desk.db.reading() as uow:
                return (await uow.session.execute(statement)).scalar_one()
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError("the database never came back")


async def test_postgres_restarted_under_traffic_loses_and_repeats_nothing(postgres_url):
    async with SlackDesk(postgres_url, inbox=True) as desk:
        first = [f"UA{n:03d}" for n in range(PROMISES)]
        later = [f"UB{n:03d}" for n in range(EVENTS)]
        for user in first + later:
            desk.fake.add_user(user, user.title())

        def body(user: str, text: str) -> dict:
            message = desk.fake.add_message(desk.fake.dm_of(user), user, text)
            return payloads.event_callback(payloads.message_event(message, channel_type="im"),
                                           team=desk.team)

        gate = asyncio.Semaphore(50)

        async def send(user: str, text: str) -> None:
            async with gate:
                await send_like_slack(desk, body(user, text))

        await asyncio.gather(*(send(user, f"Problem of {user}") for user in first))
        await desk.settle()
        assert await count(desk, select(func.count()).select_from(TicketRow)) == PROMISES
        # Every first-response promise falls due at once.
        async with desk.db.unit_of_work() as uow:
            await uow.session.execute(update(PromiseRow).values(
                due_at=desk.clock.now() - timedelta(minutes=1),
                warn_at=desk.clock.now() - timedelta(minutes=2)))

        stop = asyncio.Event()
        worker = asyncio.create_task(keep_working(desk, stop))
        burst = asyncio.gather(*(send(user, f"Problem of {user}") for user in later))
        await asyncio.sleep(1.0)  # in the middle of it all
        await asyncio.get_running_loop().run_in_executor(None, restart_postgres)
        await burst
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 180

        def acknowledged() -> Counter:
            return Counter(m["channel"] for m in desk.fake.bot_messages()
                           if "opened ticket" in m["text"])

        def covered() -> Counter:
            return Counter(m["channel"] for m in desk.fake.bot_messages()
                           if m["text"].startswith("An update on #"))

        while loop.time() < deadline:
            tickets = await count(desk, select(func.count()).select_from(TicketRow))
            if (tickets == PROMISES + EVENTS and len(acknowledged()) == PROMISES + EVENTS
                    and len(covered()) >= PROMISES):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # anything sent twice would be out by now
        stop.set()
        await worker
        assert await count(desk, select(func.count()).select_from(TicketRow)) == PROMISES + EVENTS
        assert set(acknowledged().values()) == {1}
        assert len(acknowledged()) == PROMISES + EVENTS
        covers = covered()
        assert len(covers) == PROMISES and set(covers.values()) == {1}
