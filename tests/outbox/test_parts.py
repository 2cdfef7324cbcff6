"""One outbox row, several platform messages: when a later part fails, the row records
the parts that went out, and the retry hands the adapter only what is left to send."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.clock import OffsetClock
from bot.core import DeliveryError, OutboundMessage
from bot.outbox.dispatcher import OutboxDispatcher, RetryPolicy
from bot.storage.tables import OutboxRow
from bot.storage.uow import Database
from tests.support.harness import reset_schema
from tests.support.recording import RecordingAdapter


async def test_parts_sent_are_recorded_and_handed_to_the_retry(db_url):
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)
    try:
        adapter = RecordingAdapter("test")
        dispatcher = OutboxDispatcher(db, {"test": adapter},
                                      retry=RetryPolicy(base=timedelta(seconds=1)))
        async with db.unit_of_work() as uow:
            workspace = await uow.workspaces.ensure("test", "T1", "T1", db.clock.now())
            for channel in ("C1", "C2", "C3"):
                await uow.outbox.add(workspace.id, "test",
                                     OutboundMessage(channel_id=channel, text="long"),
                                     db.clock.now())
        # Two rows fail after some parts went out (one rate-limited), one before any.
        adapter.failures = [DeliveryError("boom", parts_sent=("p1", "p2")),
                            DeliveryError("slow", retry_after=5, parts_sent=("q1",)),
                            DeliveryError("boom")]
        assert await dispatcher.drain() == 0
        async with db.reading() as uow:
            rows = (await uow.session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars()
            stored = [json.loads(row.payload_json).get("parts_sent") for row in rows]
        assert stored == [["p1", "p2"], ["q1"], []]
        db.clock.advance(timedelta(minutes=5))
        assert await dispatcher.drain() == 3
        assert [s.message.parts_sent for s in adapter.sent] == [("p1", "p2"), ("q1",), ()]
    finally:
        await db.dispose()
