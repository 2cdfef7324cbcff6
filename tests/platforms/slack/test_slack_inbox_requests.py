"""Issue 18, what its first round left: slash commands, button presses and modal
submissions in HTTP mode, and every Socket Mode envelope, are kept in the inbox before
Slack is acknowledged (a 200, or an ack over the socket), and any instance handles one
whose owner died, once, its private answer shown once."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import insert

from bot.storage.tables import InboxRow
from tests.support.slack import events as payloads
from tests.support.slack.inbox import Held, inbox_rows, tickets
from tests.support.slack.desk import TRIAGE, SlackDesk


async def until_empty(desk) -> None:
    for _ in range(100):  # replays run in the background
        if not await inbox_rows(desk):
            return
        await asyncio.sleep(0.05)


def command_body(desk, line: str, user: str = "UREQ", channel: str = "CSECRET") -> dict:
    name, _, text = line.partition(" ")
    return payloads.slash_command(name, text, team=desk.team, user=user, channel=channel,
                                  response_url=desk.fake.response_url(), channel_name="secret")


async def dead_owners_row(desk, key: str, payload: str) -> None:
    past = desk.clock.now() - timedelta(minutes=1)
    async with desk.db.unit_of_work() as uow:
        await uow.session.execute(insert(InboxRow), [
            {"platform": "slack", "event_key": key, "owner": "dead-instance", "payload": payload,
             "lease_until": past, "received_at": past, "attempts": 1}])


# -- HTTP mode ----------------------------------------------------------------------


@pytest.fixture
async def http(db_url):
    async with SlackDesk(db_url, inbox=True) as desk:
        yield desk


async def test_a_slash_command_is_kept_before_its_200_and_cleared_once_handled(http):
    held = Held(http)
    body = command_body(http, "/ticket new Printer jams on tray 2", channel=http.fake.dm_of("UREQ"))
    body["channel_name"] = "directmessage"
    result = await http.sender.command(body)
    assert result.status == 200
    await held.entered.wait()
    [kept] = await inbox_rows(http)
    assert (kept.platform, kept.event_key, kept.owner) == ("slack", body["trigger_id"],
                                                           http.inbox.owner)
    assert "Printer" in json.loads(kept.payload)["body"]
    held.release.set()
    await http.settle()
    assert await inbox_rows(http) == []
    assert [t.subject for t in await tickets(http)] == ["Printer jams on tray 2"]


async def test_a_button_press_is_kept_before_its_200_and_cleared_once_handled(http):
    await http.make_agent()
    await http.set_channel("triage", TRIAGE)
    await http.dm("UREQ", "Monitor flickers")
    [card] = http.fake.bot_messages(TRIAGE, top_level=True)
    held = Held(http)
    button = payloads.find_button(card, "card.claim")
    body = payloads.block_actions(card, button, team=http.team, user="UAGENT",
                                  response_url=http.fake.response_url())
    result = await http.sender.interaction(body)
    assert result.status == 200
    await held.entered.wait()
    [kept] = await inbox_rows(http)
    assert kept.event_key == body["trigger_id"]
    held.release.set()
    await http.settle()
    assert await inbox_rows(http) == []


async def test_a_command_the_inbox_cannot_keep_is_not_handled_and_the_person_is_told(http):
    # Slack never sends a slash command again: a 503 would show only its bare
    # "dispatch_failed". The person reads, privately, that nothing was done.
    async def broken(*args):
        raise ConnectionError("the database is away")

    http.inbox.keep = broken
    result = await http.sender.command(command_body(http, "/ticket claim 4"))
    await http.settle()
    assert result.status == 200
    answer = json.loads(result.body)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == ("Sorry, I couldn't take `/ticket` just now, so nothing was "
                              "changed. Please try it again in a minute.")
    assert "database" not in answer["text"]
    assert http.fake.responses == [] and await tickets(http) == []


async def test_a_command_while_stopping_is_not_taken_and_the_person_is_told(http):
    http.adapter.stop_accepting()
    result = await http.sender.command(command_body(http, "/ticket new Printer jams"))
    await http.settle()
    assert result.status == 200
    assert json.loads(result.body) == {
        "response_type": "ephemeral",
        "text": "I couldn't take `/ticket` just now (this part of the help desk is starting "
                "up or stopping), so nothing was changed. Please try it again in a minute."}
    assert await inbox_rows(http) == [] and await tickets(http) == []


async def test_an_event_while_stopping_is_refused_so_slack_delivers_it_elsewhere(http):
    http.adapter.stop_accepting()
    message = http.fake.add_message("DUREQ", "UREQ", "VPN will not connect")
    result = await http.sender.event(payloads.event_callback(
        payloads.message_event(message, channel_type="im"), team=http.team, event_id="Ev-1"))
    assert result.status == 503
    assert await inbox_rows(http) == []


async def test_an_unsigned_command_while_stopping_gets_no_words(http):
    http.adapter.stop_accepting()
    http.sender.secret = "not-the-signing-secret"
    result = await http.sender.command(command_body(http, "/ticket help"))
    assert result.status == 401 and "restarting" not in result.body


async def test_a_command_a_dead_instance_acknowledged_is_answered_once_by_another(http):
    http.fake.forbid("CSECRET", "not_in_channel")  # the answer goes by response_url
    lost = command_body(http, "/ticket help", user="UBOB")
    await dead_owners_row(http, lost["trigger_id"], json.dumps(
        {"body": urlencode(lost), "content_type": "application/x-www-form-urlencoded"}))
    assert await http.inbox.take_over() == 1
    await until_empty(http)
    await http.settle()
    assert await inbox_rows(http) == []
    [(url, answer)] = http.fake.responses
    assert url == lost["response_url"] and "Here's what I can do" in answer["text"]


async def test_a_command_handled_before_its_owner_died_is_not_answered_again(http):
    http.fake.forbid("CSECRET", "not_in_channel")
    body = command_body(http, "/ticket help", user="UBOB")
    assert (await http.sender.command(body)).status == 200
    await http.settle()
    assert len(http.fake.responses) == 1
    # It died after handling it and before clearing its row: the replay finds it done.
    await dead_owners_row(http, body["trigger_id"], json.dumps(
        {"body": urlencode(body), "content_type": "application/x-www-form-urlencoded"}))
    assert await http.inbox.take_over() == 1
    await until_empty(http)
    await http.settle()
    assert await inbox_rows(http) == []
    assert len(http.fake.responses) == 1


# -- Socket Mode ----------------------------------------------------------------------


@pytest.fixture
async def socket(db_url):
    async with SlackDesk(db_url, mode="socket", inbox=True) as desk:
        yield desk


async def test_a_socket_envelope_is_kept_before_its_ack_and_cleared_once_handled(socket):
    held = Held(socket)
    message = socket.fake.add_message("DUREQ", "UREQ", "The wifi drops every hour")
    body = payloads.event_callback(payloads.message_event(message, channel_type="im"),
                                   team=socket.team, event_id="Ev-socket")
    ack = await socket.fake.socket.send("events_api", body)
    assert ack is not None
    await held.entered.wait()
    [kept] = await inbox_rows(socket)
    assert (kept.event_key, kept.owner) == ("Ev-socket", socket.inbox.owner)
    held.release.set()
    await socket.settle()
    assert await inbox_rows(socket) == []
    assert len(await tickets(socket)) == 1


async def test_a_socket_envelope_the_inbox_cannot_keep_is_not_acknowledged(socket):
    async def broken(*args):
        raise ConnectionError("the database is away")

    socket.inbox.keep = broken
    message = socket.fake.add_message("DUREQ", "UREQ", "Printer offline")
    ack = await socket.fake.socket.send("events_api", payloads.event_callback(
        payloads.message_event(message, channel_type="im"), team=socket.team), timeout=1.0)
    await socket.settle()
    assert ack is None  # Slack sends it again
    assert await tickets(socket) == []


async def test_a_socket_command_a_dead_instance_acknowledged_is_handled_once(socket):
    socket.fake.forbid("CSECRET", "not_in_channel")
    lost = command_body(socket, "/ticket help", user="UBOB")
    await dead_owners_row(socket, lost["trigger_id"],
                          json.dumps({"socket": lost, "type": "slash_commands"}))
    assert await socket.inbox.take_over() == 1
    await until_empty(socket)
    await socket.settle()
    assert await inbox_rows(socket) == []
    [(url, answer)] = socket.fake.responses
    assert "Here's what I can do" in answer["text"]


async def test_a_stopping_instance_leaves_an_envelope_unacknowledged_for_another(socket):
    socket.adapter.stop_accepting()
    message = socket.fake.add_message("DUREQ", "UREQ", "Mouse lost")
    ack = await socket.fake.socket.send("events_api", payloads.event_callback(
        payloads.message_event(message, channel_type="im"), team=socket.team), timeout=1.0)
    assert ack is None
    assert await inbox_rows(socket) == []


async def test_an_outage_logs_one_traceback_not_one_per_request(http, caplog):
    async def broken(*args):
        raise ConnectionError("the database is away")

    http.inbox.keep = broken
    with caplog.at_level("INFO"):
        for n in range(5):
            message = http.fake.add_message("DUREQ", "UREQ", f"VPN down {n}")
            result = await http.sender.event(payloads.event_callback(
                payloads.message_event(message, channel_type="im"), team=http.team))
            assert result.status == 503
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is not None
