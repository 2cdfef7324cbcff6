"""Issue 18: SIGTERM during a burst of acknowledged Slack events loses none of them.

A real ``helpdesk-bot run`` in Slack's HTTP mode, against the fake Slack in this
process. Two hundred people each write once; every request is answered 200; then the
desk gets SIGTERM while most are still waiting to be handled (the fake answers each
Web API call slowly). It must exit 0 within 20 s, and once started again every one of
the 200 has a ticket and exactly one acknowledgement.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3

from tests.support.slack import events as payloads
from tests.support.slack.events import SignedSender
from tests.support.slack.server import BOT_TOKEN, FakeSlack
from tests.web.process import DeskProcess

SECRET = "fake-signing-secret"
PEOPLE = 200


def ticket_count(path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM tickets").fetchone()[0]


async def test_sigterm_during_a_burst_loses_no_acknowledged_event(tmp_path):
    fake = await FakeSlack().start()
    people = [f"UP{n:03d}" for n in range(PEOPLE)]
    for n, user in enumerate(people):
        fake.add_user(user, f"Person{n}")
    database = tmp_path / "desk.sqlite3"
    env = dict(HELPDESK_DATABASE_URL=f"sqlite:///{database}", SLACK_BOT_TOKEN=BOT_TOKEN,
               SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.api_url,
               HELPDESK_LOG_LEVEL="INFO",
               # Less than the burst needs, so that some events are surely unfinished.
               HELPDESK_STOP_GRACE_SECONDS="1")
    loop = asyncio.get_running_loop()
    try:
        async with DeskProcess(tmp_path, **env) as desk:
            async def ready() -> bool:
                return (await desk.get("/readyz"))[0] == 200
            await desk.until(ready, "the desk to be ready")
            # Slack is slow to answer the look-ups each event needs (who wrote it): the
            # events are acknowledged at once and still being handled when SIGTERM comes.
            fake.method_latency["users.info"] = 5.0
            sender = SignedSender(desk.url + "/slack/events", SECRET)
            try:
                bodies = [payloads.event_callback(payloads.message_event(
                    fake.add_message(fake.dm_of(user), user, f"Problem number {n}"),
                    channel_type="im"), team=fake.team_id) for n, user in enumerate(people)]
                results = await asyncio.gather(*(sender.event(body) for body in bodies))
            finally:
                await sender.close()
            assert [r.status for r in results] == [200] * PEOPLE
            stopping = loop.time()
            desk.proc.send_signal(signal.SIGTERM)
            fake.method_latency.clear()
            try:
                code = await asyncio.wait_for(desk.proc.wait(), 30)
            except asyncio.TimeoutError:
                raise AssertionError(f"the desk did not stop:\n{desk.output[-4000:]}") from None
            took = loop.time() - stopping
            assert code == 0, desk.output
            assert took < 20, f"the stop took {took:.1f} s"
        before_restart = ticket_count(database)
        print(f"stopped in {took:.1f} s with {before_restart} of {PEOPLE} tickets open")
        assert before_restart < PEOPLE and "back to the inbox" in desk.output
        async with DeskProcess(tmp_path, **env) as again:
            async def all_opened() -> bool:
                return ticket_count(database) == PEOPLE
            await again.until(all_opened, f"{PEOPLE} tickets (had {before_restart})")

            def acknowledged() -> dict[str, int]:
                return {user: len([m for m in fake.bot_messages(fake.dm_of(user))
                                   if "opened ticket" in m["text"]]) for user in people}

            async def all_acknowledged() -> bool:
                return all(acknowledged().values())
            await again.until(all_acknowledged, "every acknowledgement")
            await asyncio.sleep(1)  # anything sent twice would be sent by now
            assert set(acknowledged().values()) == {1}
    finally:
        await fake.stop()
