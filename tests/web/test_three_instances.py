"""Issue 18: three instances on one PostgreSQL, one of them and the Discord holder
killed in the middle of a burst.

Three ``helpdesk-bot run`` processes share a database of this test's own. Slack (the
fake in this process) reaches them in HTTP mode through a round-robin proxy the test
runs, which, like a load balancer, passes a request to the next instance when one does
not answer; Slack's sender retries what was not acknowledged, to the proxy again. All
three are configured for Discord (the fake gateway); one holds the gateway through the
advisory lock. A thousand people write once each, a tenth of the events is delivered a
second time as Slack's retries would be (landing on another instance); a third of the
way in, the Discord holder and a second instance are SIGKILLed. Then: every event is one
ticket with one acknowledgement, the inbox is empty, and the Discord gateway was taken
over within 15 s by the survivor, which opens a ticket for a Discord DM.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from contextlib import AsyncExitStack

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.discord.server import FakeDiscord
from tests.support.slack import events as payloads
from tests.support.slack.events import SignedSender
from tests.support.slack.server import BOT_TOKEN, FakeSlack
from tests.support.databases import own_database
from tests.web.process import DeskProcess, free_port

pytestmark = pytest.mark.postgres

SECRET = "fake-signing-secret"
PEOPLE = 1000


@pytest.fixture
async def shared_postgres(postgres_url):
    """A PostgreSQL database of this test's own (the desk migrates it itself)."""
    async with own_database(postgres_url, "three") as url:
        yield url


class RoundRobin:
    """A load balancer for Slack's requests: each to the next instance in turn, and on
    to the one after when an instance does not answer."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.turn = itertools.cycle(range(len(upstreams)))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/slack/events", self.forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    async def stop(self) -> None:
        await self.session.close()
        await self.runner.cleanup()

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower().startswith("x-slack") or k.lower() == "content-type"}
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[next(self.turn)]
            try:
                async with self.session.post(upstream + "/slack/events", data=body,
                                             headers=headers) as response:
                    return web.Response(status=response.status, body=await response.read())
            except (aiohttp.ClientError, asyncio.TimeoutError):
                continue  # that instance is gone: the next one
        return web.Response(status=502)


async def deliver_like_slack(sender: SignedSender, body: dict) -> None:
    """Until acknowledged: Slack retries a timeout or a refusal (here within seconds)."""
    for retry in (None, 1, 2, 3, 3, 3, 3, 3):
        result = await sender.event(body, retry_num=retry)
        if result.status == 200:
            return
        await asyncio.sleep(1)
    raise AssertionError(f"event {body['event_id']} was never acknowledged")


async def test_three_instances_lose_and_repeat_nothing_when_two_die(tmp_path, shared_postgres):
    slack = await FakeSlack().start()
    discord = await FakeDiscord().start()
    alex = discord.add_user("Alex")
    discord.add_member(discord.add_guild("Acme"), alex)
    people = [f"UT{n:04d}" for n in range(PEOPLE)]
    for n, user in enumerate(people):
        slack.add_user(user, f"Person{n}")
    url = shared_postgres.render_as_string(hide_password=False)
    env = dict(HELPDESK_DATABASE_URL=url, SLACK_BOT_TOKEN=BOT_TOKEN,
               SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
               DISCORD_BOT_TOKEN="fake-token", DISCORD_API_URL=discord.api_url,
               DISCORD_GATEWAY_URL=discord.gateway_url, HELPDESK_LOG_LEVEL="INFO")
    engine = create_async_engine(shared_postgres.set(drivername="postgresql+asyncpg"))
    loop = asyncio.get_running_loop()

    async def scalar(sql: str) -> int:
        async with engine.connect() as connection:
            return (await connection.execute(text(sql))).scalar_one()

    try:
        async with AsyncExitStack() as stack:
            desks = []
            for n in range(3):  # one after the other: the first migrates the database
                folder = tmp_path / f"i{n}"
                folder.mkdir()
                desk = await stack.enter_async_context(DeskProcess(folder, **env))

                async def ready(desk=desk) -> bool:
                    return (await desk.get("/readyz"))[0] == 200
                await desk.until(ready, f"instance {n} to be ready")
                desks.append(desk)

            def holders() -> list[int]:
                return [n for n, d in enumerate(desks)
                        if "holds the discord gateway" in d.output]
            await desks[0].until(lambda: asyncio.sleep(0, result=len(holders()) == 1),
                                 "one instance to hold the Discord gateway")
            [holder] = holders()
            other = next(n for n in range(3) if n != holder)
            survivor = next(n for n in range(3) if n not in (holder, other))

            balancer = RoundRobin([d.url for d in desks])
            await balancer.start()
            stack.push_async_callback(balancer.stop)
            sender = SignedSender(balancer.url, SECRET, timeout=5)
            stack.push_async_callback(sender.close)
            bodies = [payloads.event_callback(payloads.message_event(
                slack.add_message(slack.dm_of(user), user, f"Problem number {n}"),
                channel_type="im"), team=slack.team_id) for n, user in enumerate(people)]
            redelivered = random.Random(18).sample(bodies, PEOPLE // 10)
            gate = asyncio.Semaphore(25)

            async def send(body: dict, retry: bool = False) -> None:
                async with gate:
                    if retry:  # Slack's timeout retry, while the first may still run
                        await sender.event(body, retry_num=1, retry_reason="http_timeout")
                    else:
                        await deliver_like_slack(sender, body)

            sends = [asyncio.create_task(send(body)) for body in bodies]
            sends += [asyncio.create_task(send(body, retry=True)) for body in redelivered]
            while sum(task.done() for task in sends) < PEOPLE // 3:
                await asyncio.sleep(0.05)
            killed_at = loop.time()
            desks[holder].proc.kill()
            desks[other].proc.kill()

            async def taken_over() -> bool:
                return "holds the discord gateway" in desks[survivor].output \
                    and len([s for s in discord.sessions if s.ready]) >= 1
            await desks[survivor].until(taken_over, "the Discord gateway to be taken over")
            took = loop.time() - killed_at
            assert took < 15, f"the takeover took {took:.1f} s"
            await asyncio.gather(*sends)

            async def all_handled() -> bool:
                return await scalar("SELECT count(*) FROM tickets") == PEOPLE \
                    and await scalar("SELECT count(*) FROM inbox") == 0
            await desks[survivor].until(all_handled, f"{PEOPLE} tickets and an empty inbox")

            def acknowledged() -> Counter:
                return Counter(m["channel"] for m in slack.bot_messages()
                               if "opened ticket" in m["text"])

            async def all_acknowledged() -> bool:
                return len(acknowledged()) == PEOPLE
            await desks[survivor].until(all_acknowledged, "every acknowledgement")
            await asyncio.sleep(2)  # anything sent twice would be out by now
            assert set(acknowledged().values()) == {1}

            print(f"gateway taken over in {took:.1f} s; the survivor took over "
                  f"{desks[survivor].output.count('taking over inbound')} acknowledged "
                  f"event(s) and dropped {desks[survivor].output.count('dropping duplicate')} "
                  "repeat(s)")
            discord.dm(alex, "My VPN keeps dropping")

            async def discord_ticket() -> bool:
                return await scalar("SELECT count(*) FROM tickets") == PEOPLE + 1
            await desks[survivor].until(discord_ticket, "the Discord DM's ticket")
    finally:
        await engine.dispose()
        await discord.stop()
        await slack.stop()
