"""A broadcast survives a crash in the middle: every requester gets it exactly once.

An incident links 500 tickets, each in its own requester thread. ``/incident update``
goes through the real router, writing one outbox row per thread. A worker process
(tests/ledger/worker.py) delivers them over real HTTP to the fake chat platform and
SIGKILLs itself after 230 sends, in the middle of a batch: rows sent with no outcome
written, rows claimed and not sent, rows still pending. A later worker, past the dead
one's leases, finishes the broadcast. Each thread holds the update once: re-sends reuse
their row's idempotency key, which the fake (as Discord's nonce, or Slack's metadata
check) answers with the message it already has.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.core import Actor, CommandInvoked
from bot.desk.features import register_all
from bot.desk.policy import Desk
from bot.desk.router import Router
from bot.settings import Settings
from bot.storage.tables import OutboxRow
from tests.ledger.test_exactly_once import (
    HELP_CHANNEL, PAST_THE_LEASE, Worker, fresh_database, rows,
)
from tests.support.fake_chat import FakeChat
from tests.support.harness import WORKSPACE


@pytest.fixture
async def fake():
    """A running fake chat platform on 127.0.0.1."""
    async with FakeChat() as chat:
        yield chat


REQUESTERS = 500
DIE_AFTER = 230
UPDATE = "The VPN gateway is being replaced"


async def _incident_with_tickets(url: str):
    """500 tickets, one per requester thread, linked to INC-1 led by Alex."""
    db, ws, alex = await fresh_database(url)
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        ann = await uow.people.ensure(ws, "ann", "Ann", now)
        tickets = []
        for n in range(1, REQUESTERS + 1):
            tickets.append(await uow.tickets.add(
                workspace_id=ws, number=n, requester_id=ann.id, status="open", priority="P3",
                subject="VPN down", first_message="VPN down", channel_id=HELP_CHANNEL,
                thread_id=f"t{n}", created_at=now, updated_at=now))
        incident = await uow.incidents.declare(ws, "VPN down", alex, now)
        await uow.incidents.link(incident.id, [t.id for t in tickets], now)
    return db


async def test_a_broadcast_killed_midway_reaches_every_requester_exactly_once(db_url, fake):
    db = await _incident_with_tickets(db_url)
    try:
        settings = Settings(database_url=db_url)
        router = Router(db, Desk.from_settings(settings, db.clock))
        register_all(router)
        await router(CommandInvoked(
            platform="test", workspace_id=WORKSPACE, event_id="cmd-1",
            actor=Actor(user_id="alex", display_name="Alex"), channel_id="D-alex",
            name="incident", text=f"update INC-1 {UPDATE}", is_direct=True))
        queued = [r for r in await rows(db, OutboxRow) if UPDATE in r.payload_json]
        assert len(queued) == REQUESTERS

        crashed = await (await Worker.start(db_url, fake, "send-some-then-die", "--sends",
                                            str(DIE_AFTER), "--batch-size", "100")).finish()
        crashed.assert_killed()
        assert crashed.summary["sent"] == DIE_AFTER
        assert crashed.summary["held"] > 0  # it died holding rows, part of a batch
        statuses = Counter(r.status for r in await rows(db, OutboxRow))
        assert statuses["pending"] > 0 and statuses["sending"] > 0, statuses

        later = await (await Worker.start(db_url, fake, "run", "--clock-offset-seconds",
                                          PAST_THE_LEASE)).finish(120)
        later.assert_clean_exit()
        updates = [m for m in fake.in_threads(HELP_CHANNEL) if UPDATE in m.text]
        assert Counter(m.thread for m in updates) == Counter(
            {f"t{n}": 1 for n in range(1, REQUESTERS + 1)})
        assert max(fake.key_counts().values()) == 1
        # Some rows had gone out when the worker died, before their outcome was written:
        # sent again, they were recognised by their keys, not posted twice.
        assert fake.dedup_hits > 0
        assert {r.status for r in await rows(db, OutboxRow)} == {"sent"}
    finally:
        await db.dispose()
