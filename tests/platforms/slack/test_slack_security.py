"""HTTP mode's front door: signatures, Slack's re-deliveries, and the 3-second ack."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from bot.platforms.slack.adapter import SlackAdapter
from bot.settings import Secret, Settings, SettingsError
from bot.storage.tables import ProcessedEventRow, TicketRow
from bot.web import WebServer
from tests.support.slack import events as payloads
from tests.support.slack.server import BOT_TOKEN, FakeSlack
from tests.support.slack.desk import SECRET, SlackDesk, slack  # noqa: F401
from tests.support.slack.events import SignedSender, sign


async def count(desk, table) -> int:
    async with desk.db.unit_of_work() as uow:
        return (await uow.session.execute(select(func.count()).select_from(table))).scalar_one()


def dm_event(desk, text: str = "My screen is black", user: str = "UREQ") -> dict:
    message = desk.fake.add_message(f"D{user}", user, text)
    return payloads.event_callback(payloads.message_event(message, channel_type="im"),
                                   team=desk.team)


async def test_bad_or_stale_signatures_get_401_and_change_nothing(slack):
    body = json.dumps(dm_event(slack)).encode()
    calls = len(slack.fake.calls)
    forged = await slack.sender.post(body, "application/json", secret="not-the-secret")
    stale = await slack.sender.post(body, "application/json",
                                     timestamp=str(int(time.time()) - 6 * 60))
    missing = await slack.sender.post(body, "application/json", signature="v0=")
    stamp = str(int(time.time()))
    tampered = await slack.sender.post(body.replace(b"black", b"white"), "application/json",
                                       timestamp=stamp, signature=sign(SECRET, stamp, body))
    assert [r.status for r in (forged, stale, missing, tampered)] == [401, 401, 401, 401]
    await slack.settle()
    assert len(slack.fake.calls) == calls and await count(slack, TicketRow) == 0
    assert (await slack.sender.post(body, "application/json")).status == 200


async def test_slack_re_delivers_a_refused_request_with_retry_numbers(slack):
    sender = SignedSender(slack.adapter.http.url, "wrong-secret")
    try:
        results = await sender.deliver(dm_event(slack))
    finally:
        await sender.close()
    assert [(r.status, r.retry_num) for r in results] == [(401, None), (401, 1), (401, 2),
                                                          (401, 3)]


async def test_a_retry_of_an_event_already_taken_gets_200_and_does_nothing(slack):
    payload = dm_event(slack)
    first = await slack.sender.event(payload)
    await slack.settle()
    calls = len(slack.fake.calls)
    retry = await slack.sender.event(payload, retry_num=1, retry_reason="http_timeout")
    await slack.settle()
    assert (first.status, retry.status, retry.body) == (200, 200, "")
    assert len(slack.fake.calls) == calls  # not even a profile look-up
    assert await count(slack, TicketRow) == 1


async def test_a_timeout_retry_while_the_first_is_still_running_is_dropped(slack):
    slack.fake.latency = 0.3  # the first delivery is slow to translate (users.info)
    slack.forget_people()
    payload = dm_event(slack)
    first = await slack.sender.event(payload)
    retry = await slack.sender.event(payload, retry_num=1, retry_reason="http_timeout")
    assert first.seconds < 0.3 and retry.status == 200  # acknowledged before the work
    slack.fake.latency = 0
    await slack.settle()
    assert await count(slack, TicketRow) == 1
    assert len([m for m in slack.fake.bot_messages("DUREQ") if "opened ticket" in m["text"]]) == 1


async def test_a_retry_reaching_another_instance_is_dropped_by_the_database(slack):
    payload = dm_event(slack)
    await slack.sender.event(payload)
    await slack.settle()
    web = WebServer("127.0.0.1", 0)  # a second bot process, with its own web server
    twin = SlackAdapter(slack.settings, clock=slack.clock, web=web)
    await web.start()
    await twin.start(slack.router)
    sender = SignedSender(twin.http.url, SECRET)
    try:
        result = await sender.event(payload, retry_num=1)
        await twin.idle()
    finally:
        await sender.close()
        await web.stop()
        await twin.stop()
    await slack.settle()
    assert result.status == 200
    assert await count(slack, TicketRow) == 1
    assert await count(slack, ProcessedEventRow) >= 1


async def test_url_verification_is_answered_with_its_challenge(slack):
    result = await slack.sender.event({"type": "url_verification", "challenge": "c-123",
                                       "token": "legacy"})
    assert result.status == 200 and json.loads(result.body) == {"challenge": "c-123"}


async def test_acknowledgements_come_well_inside_three_seconds(slack):
    slack.fake.latency = 0.5  # a slow Web API must not slow the acks
    results = [await slack.sender.event(dm_event(slack, f"problem {i}")) for i in range(5)]
    results.append(await slack.sender.command(payloads.slash_command(
        "/ticket", "help", team=slack.team, user="UBOB", channel="CGENERAL",
        response_url=slack.fake.response_url())))
    slack.fake.latency = 0
    await slack.settle()
    assert all(r.status == 200 and r.seconds < 1.0 for r in results), results


async def test_http_mode_needs_the_signing_secret_and_a_valid_token(sqlite_url):
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        SlackAdapter(Settings(database_url=sqlite_url, slack_bot_token=Secret(BOT_TOKEN)))
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        SlackAdapter(Settings(database_url=sqlite_url))
    async with FakeSlack() as fake:
        adapter = SlackAdapter(Settings(
            database_url=sqlite_url, slack_bot_token=Secret("xoxb-wrong"),
            slack_signing_secret=Secret(SECRET), slack_api_url=fake.api_url,
            http_host="127.0.0.1", http_port=0), web=WebServer("127.0.0.1", 0))
        with pytest.raises(SettingsError, match="invalid_auth"):
            await adapter.start(lambda event: None)
        await adapter.stop()


async def test_the_http_endpoint_listens_where_it_is_told(sqlite_url):
    import aiohttp
    async with SlackDesk(sqlite_url) as desk:
        assert desk.adapter.http.url == f"http://127.0.0.1:{desk.web.port}/slack/events"
        assert desk.web.host == "127.0.0.1" and desk.web.port > 0
        async with aiohttp.ClientSession() as session, \
                session.post(desk.adapter.http.url, data=b"{}") as response:
            assert response.status == 401  # the shared server routes it to Bolt, unsigned
        assert await desk.adapter.is_connected()  # HTTP mode: started, its route served
    assert not await desk.adapter.is_connected()


async def test_http_mode_needs_the_web_server(sqlite_url):
    with pytest.raises(ValueError, match="web server"):
        SlackAdapter(Settings(database_url=sqlite_url, slack_bot_token=Secret(BOT_TOKEN),
                              slack_signing_secret=Secret(SECRET)))


async def test_the_request_url_is_made_from_the_public_url(sqlite_url):
    web = WebServer("0.0.0.0", 3000, "https://desk.example.com/helpdesk/")
    adapter = SlackAdapter(Settings(database_url=sqlite_url, slack_bot_token=Secret(BOT_TOKEN),
                                    slack_signing_secret=Secret(SECRET)), web=web)
    assert adapter.http.url == "https://desk.example.com/helpdesk/slack/events"


async def test_a_burst_is_acknowledged_at_once_and_handed_to_the_desk_a_few_at_a_time(sqlite_url):
    import asyncio
    async with SlackDesk(sqlite_url, max_handling=2) as desk:
        router, running, most = desk.adapter._sink, [0], [0]

        async def counting(event):
            running[0] += 1
            most[0] = max(most[0], running[0])
            try:
                await router(event)
            finally:
                running[0] -= 1
        desk.adapter._sink = counting
        desk.fake.auto_users = True
        results = await asyncio.gather(*(desk.sender.event(dm_event(desk, "issue", f"UP{i}"))
                                         for i in range(8)))
        assert all(r.status == 200 for r in results)
        await desk.settle()
        assert most[0] == 2 and await count(desk, TicketRow) == 8


async def test_events_before_the_adapter_starts_are_refused_for_slack_to_retry(sqlite_url):
    # The web server starts before the adapters (so /healthz answers while they
    # connect); an event taken then would be acknowledged with no desk to hand it to.
    import aiohttp
    web = WebServer("127.0.0.1", 0)
    adapter = SlackAdapter(Settings(database_url=sqlite_url, slack_bot_token=Secret(BOT_TOKEN),
                                    slack_signing_secret=Secret(SECRET)), web=web)
    await web.start()
    sender = SignedSender(adapter.http.url, SECRET)
    try:
        response = await sender.event(payloads.event_callback(
            {"type": "message", "channel": "DUREQ", "user": "UREQ", "text": "hi",
             "ts": "1.000001", "channel_type": "im"}, team="T1"))
        assert response.status == 503
        async with aiohttp.ClientSession() as session, \
                session.post(adapter.http.url, data=b"{}") as unsigned:
            assert unsigned.status == 401  # and an unsigned one is refused as such
    finally:
        await sender.close()
        await web.stop()


async def test_a_refused_signature_is_logged_without_what_the_person_wrote(
        sqlite_url, caplog, monkeypatch):
    """Bolt logs a failed signature check with the whole body at INFO; the desk keeps
    Bolt at WARNING and says in its own line what to check. Bolt's start-up warning
    that the environment's token is unused (the desk hands it a client) is gone too."""
    import logging
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    caplog.set_level(logging.INFO)
    async with SlackDesk(sqlite_url) as desk:
        body = json.dumps(dm_event(desk)).encode()
        forged = await desk.sender.post(body, "application/json", secret="not-the-secret")
        assert forged.status == 401
    said = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert not [line for line in said if "black" in line[2]], said
    assert not [line for line in said if "will be unused" in line[2]], said
    refused = [line for line in said if line[0] == "bot.platforms.slack.http"]
    assert len(refused) == 1 and refused[0][1] == logging.WARNING
    assert "SLACK_SIGNING_SECRET" in refused[0][2] and "clock" in refused[0][2]


async def test_http_mode_without_a_public_url_warns_that_slack_cannot_reach_it(
        sqlite_url, caplog):
    import logging
    caplog.set_level(logging.INFO)
    async with SlackDesk(sqlite_url):
        pass
    said = [(r.levelno, r.getMessage()) for r in caplog.records
            if r.name == "bot.platforms.slack.adapter" and "HTTP mode" in r.getMessage()]
    assert len(said) == 1 and said[0][0] == logging.WARNING, said
    assert "HELPDESK_PUBLIC_URL is not set" in said[0][1] and "https://" in said[0][1]
    assert "Request URL is http://127.0.0.1" not in said[0][1]


async def test_hostile_unsigned_bodies_get_401_and_one_quiet_line(slack, caplog):
    # Anyone can reach the Request URL: garbage without a signature must be refused
    # before it is parsed (it used to reach Bolt's parser: 500 and a traceback each).
    import aiohttp
    url = slack.adapter.http.url
    bodies = [(b'{"a":', {}), (b"[1]", {}),
              (b'{"type":"event_callback","event_id":"Ev1"}', {}),
              (b'{"type":"event_callback","event_id":"Ev1"}',
               {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}),
              (b"payload=%7B", {"Content-Type": "application/x-www-form-urlencoded"})]
    statuses = []
    with caplog.at_level("INFO"):
        async with aiohttp.ClientSession() as session:
            for body, headers in bodies:
                async with session.post(url, data=body, headers=headers) as response:
                    statuses.append(response.status)
    assert statuses == [401] * 5
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    refusals = [r for r in caplog.records if "did not verify" in r.getMessage()]
    assert len(refusals) == 1  # at most one line a minute, with the count
    assert await count(slack, TicketRow) == 0


async def test_a_signed_body_that_is_no_slack_payload_gets_400_not_a_traceback(slack, caplog):
    with caplog.at_level("INFO"):
        broken = await slack.sender.post(b'{"a":', "application/json")
        listed = await slack.sender.post(b"[1]", "application/json")
    assert (broken.status, listed.status) == (400, 400)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
