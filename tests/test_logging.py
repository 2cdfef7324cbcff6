"""What the desk's log says when it serves: what the desk did, not that its ticker
ticked (issue 14), and never a secret."""

from __future__ import annotations

import asyncio
import logging

from bot.clock import OffsetClock
from bot.outbox.dispatcher import OutboxDispatcher
from bot.settings import masking_formatter
from bot.storage import migrate
from bot.storage.uow import Database
from bot.ticker import Ticker


async def test_ticking_logs_nothing_at_info(sqlite_url, caplog):
    caplog.set_level(logging.INFO)
    db = Database.from_url(sqlite_url, OffsetClock())
    await migrate.upgrade(db.engine)
    dispatcher = OutboxDispatcher(db, {})
    db.deliver_outbox_to(dispatcher)
    ticker = Ticker(0.02, dispatcher)
    try:
        ticker.start()
        await asyncio.sleep(0.3)  # about fifteen ticks
    finally:
        await ticker.stop()
        await db.dispose()
    ticks = [r for r in caplog.records if r.name.startswith("apscheduler")]
    assert not ticks, [r.getMessage() for r in ticks]


async def test_ticking_still_shows_at_debug(sqlite_url, caplog):
    # Asked for everything, the operator sees the ticker too.
    caplog.set_level(logging.DEBUG)
    db = Database.from_url(sqlite_url, OffsetClock())
    await migrate.upgrade(db.engine)
    dispatcher = OutboxDispatcher(db, {})
    ticker = Ticker(0.02, dispatcher)
    try:
        ticker.start()
        await asyncio.sleep(0.1)
    finally:
        await ticker.stop()
        await db.dispose()
    assert any(r.name.startswith("apscheduler") for r in caplog.records)


def test_log_lines_and_tracebacks_hide_secrets():
    formatter = masking_formatter("%(levelname)s %(message)s", ("xoxb-very-secret-token",))
    try:
        raise ConnectionError("could not connect to postgresql://desk:pw-in-url@db/desk"
                              "?sslpassword=in-query")
    except ConnectionError:
        record = logging.LogRecord("bot", logging.ERROR, __file__, 1,
                                   "token %s failed", ("xoxb-very-secret-token",),
                                   exc_info=__import__("sys").exc_info())
    line = formatter.format(record)
    assert "ConnectionError" in line and "token *** failed" in line
    for secret in ("xoxb-very-secret-token", "pw-in-url", "in-query"):
        assert secret not in line
