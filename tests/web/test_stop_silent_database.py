"""Issue 18's review: SIGTERM while the database has gone silent (a dropped route, a
partition: connections stay open, nothing answers) must still end the process in time.

Every step of the stop used to wait on the database with no bound, and a stop with
acknowledged events in flight hung for as long as anyone watched. Now each step is
bounded, the one cut short is named, and the process exits 0: what it held returns to
the other instances when its leases run out.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.support.silent_proxy import SilentProxy
from tests.support.slack import events as payloads
from tests.support.slack.events import SignedSender
from tests.support.slack.server import BOT_TOKEN, FakeSlack
from tests.support.databases import own_database
from tests.web.process import DeskProcess

pytestmark = pytest.mark.postgres

SECRET = "fake-signing-secret"


@pytest.fixture
async def own_postgres(postgres_url):
    async with own_database(postgres_url, "silent") as url:
        yield url


async def test_sigterm_with_a_silent_database_still_exits_in_time(tmp_path, own_postgres):
    fake = await FakeSlack().start()
    proxy = SilentProxy(own_postgres.host or "127.0.0.1", own_postgres.port or 5432)
    await proxy.start()
    through = own_postgres.set(host="127.0.0.1", port=proxy.port)
    people = [f"UP{n:02d}" for n in range(20)]
    for n, user in enumerate(people):
        fake.add_user(user, f"Person{n}")
    env = dict(HELPDESK_DATABASE_URL=through.render_as_string(hide_password=False),
               SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=fake.api_url, HELPDESK_LOG_LEVEL="INFO",
               HELPDESK_STOP_GRACE_SECONDS="1")
    loop = asyncio.get_running_loop()
    try:
        async with DeskProcess(tmp_path, **env) as desk:
            async def ready() -> bool:
                return (await desk.get("/readyz"))[0] == 200
            await desk.until(ready, "the desk to be ready")
            fake.method_latency["users.info"] = 3.0  # the events are still being handled
            sender = SignedSender(desk.url + "/slack/events", SECRET)
            try:
                results = await asyncio.gather(*(sender.event(payloads.event_callback(
                    payloads.message_event(fake.add_message(fake.dm_of(user), user, "VPN down"),
                                           channel_type="im"), team=fake.team_id))
                    for user in people))
            finally:
                await sender.close()
            # Acknowledged (on a loaded machine one may miss Slack's 3 s: Slack retries it).
            assert [r.status for r in results].count(200) >= len(people) // 2
            proxy.silence()
            stopping = loop.time()
            desk.proc.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(desk.proc.wait(), 40)
            except asyncio.TimeoutError:
                raise AssertionError(f"the desk did not stop:\n{desk.output[-4000:]}") from None
            took = loop.time() - stopping
            assert code == 0, desk.output[-4000:]
            # The grace (1 s) + 12 s, and a little for a loaded machine's process exit.
            assert took < 16, f"the stop took {took:.1f} s"
            assert "could not finish stopping in time" in desk.output
    finally:
        await proxy.stop()
        await fake.stop()
