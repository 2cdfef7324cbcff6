"""Issue 18: an event Slack saw acknowledged is never only in memory. It is written to
the inbox before the 200, cleared once the desk has handled it, and an instance that
dies leaves it for any other to take over and handle once."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bot.storage.tables import InboxRow
from tests.support.slack import events as payloads
from tests.support.slack.inbox import Held, inbox_rows, tickets
from tests.support.slack.desk import SlackDesk


@pytest.fixture
async def slack(db_url):
    async with SlackDesk(db_url, inbox=True) as desk:
        yield desk


def acks(desk, number: int) -> list[str]:
    return [m["text"] for m in desk.fake.bot_messages("DUREQ")
            if f"opened ticket #{number}" in m["text"]]


async def test_an_event_is_kept_before_its_200_and_cleared_once_handled(slack):
    held = Held(slack)
    message = slack.fake.add_message("DUREQ", "UREQ", "The wifi drops every hour")
    body = payloads.event_callback(payloads.message_event(message, channel_type="im"),
                                   team=slack.team, event_id="Ev-kept")
    result = await slack.sender.event(body)
    assert result.status == 200
    await held.entered.wait()
    [kept] = await inbox_rows(slack)
    assert (kept.platform, kept.event_key, kept.owner) == ("slack", "Ev-kept", slack.inbox.owner)
    assert json.loads(json.loads(kept.payload)["body"])["event_id"] == "Ev-kept"
    # Slack's retry of it (the first answer was slow) is acknowledged and goes no further.
    retry = await slack.sender.event(body, retry_num=1)
    assert retry.status == 200
    held.release.set()
    await slack.settle()
    assert await inbox_rows(slack) == []
    assert len(await tickets(slack)) == 1 and len(acks(slack, 1)) == 1


async def test_an_event_the_inbox_cannot_keep_is_refused_so_slack_retries_it(slack):
    async def broken(*args):
        raise ConnectionError("the database is away")

    slack.inbox.keep = broken
    message = slack.fake.add_message("DUREQ", "UREQ", "Printer offline")
    result = await slack.sender.event(payloads.event_callback(
        payloads.message_event(message, channel_type="im"), team=slack.team))
    await slack.settle()
    assert result.status == 503
    assert await tickets(slack) == []


async def test_an_unsigned_event_never_reaches_the_inbox(slack):
    message = slack.fake.add_message("DUREQ", "UREQ", "Hello")
    result = await slack.sender.event(payloads.event_callback(
        payloads.message_event(message, channel_type="im"), team=slack.team),
        secret="not-the-secret")
    assert result.status == 401
    assert await inbox_rows(slack) == []


async def test_events_a_dead_instance_acknowledged_are_handled_once_by_another(slack):
    # Two events the dead instance had acknowledged: one it never handled, one it had
    # handled and died before clearing (the router's dedupe drops its replay).
    first = slack.fake.add_message("DUBOB", "UBOB", "VPN will not connect")
    handled = slack.fake.add_message("DUREQ", "UREQ", "Also the printer")
    bodies = {key: json.dumps(payloads.event_callback(
        payloads.message_event(m, channel_type="im"), team=slack.team, event_id=key))
        for key, m in (("Ev-lost", first), ("Ev-done", handled))}
    await slack.send_event(payloads.message_event(handled, channel_type="im"),
                           event_id="Ev-done")
    assert len(await tickets(slack)) == 1
    past = slack.clock.now() - timedelta(minutes=1)
    async with slack.db.unit_of_work() as uow:
        await uow.session.execute(insert(InboxRow), [
            {"platform": "slack", "event_key": key, "owner": "dead-instance",
             "payload": json.dumps({"body": body, "content_type": "application/json"}),
             "lease_until": past, "received_at": past, "attempts": 1}
            for key, body in bodies.items()])
    assert await slack.inbox.take_over() == 2
    for _ in range(100):  # the replays run in the background
        if not await inbox_rows(slack):
            break
        await asyncio.sleep(0.05)
    await slack.settle()
    assert await inbox_rows(slack) == []
    subjects = sorted(t.subject for t in await tickets(slack))
    assert subjects == ["Also the printer", "VPN will not connect"]
    assert slack.inbox.taken_over == 2
    assert len([m for m in slack.fake.bot_messages("DUBOB") if "opened ticket" in m["text"]]) == 1
    assert len(acks(slack, 1)) == 1


async def test_a_live_owners_rows_are_renewed_and_not_taken_over(slack):
    held = Held(slack)
    message = slack.fake.add_message("DUREQ", "UREQ", "Keyboard sticky")
    await slack.sender.event(payloads.event_callback(
        payloads.message_event(message, channel_type="im"), team=slack.team))
    await held.entered.wait()
    slack.clock.advance(timedelta(seconds=20))
    await slack.inbox.tick()  # renews: more than half the lease has gone
    slack.clock.advance(timedelta(seconds=20))
    assert await slack.inbox.take_over() == 0
    held.release.set()
    await slack.settle()
    assert len(await tickets(slack)) == 1

