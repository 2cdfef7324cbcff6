"""Socket Mode: the same desk over a websocket, acknowledged envelope by envelope."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.storage.tables import TicketRow
from tests.support.slack import events as payloads
from tests.support.slack.desk import INTAKE, TRIAGE, SlackDesk


@pytest.fixture
async def socket_desk(sqlite_url):
    """A desk behind the Slack adapter in Socket Mode."""
    async with SlackDesk(sqlite_url, mode="socket") as desk:
        await desk.make_agent()
        await desk.set_channel("triage", TRIAGE)
        await desk.set_channel("intake", INTAKE)
        yield desk


async def ticket_count(desk) -> int:
    async with desk.db.unit_of_work() as uow:
        return (await uow.session.execute(select(func.count()).select_from(TicketRow))).scalar_one()


async def test_socket_mode_connects_with_the_app_token_and_opens_no_port(socket_desk):
    [opened] = socket_desk.fake.calls_to("apps.connections.open")
    assert opened.token.startswith("xapp-")
    assert socket_desk.adapter.http is None
    assert socket_desk.fake.socket.connections


async def test_events_are_acknowledged_and_open_tickets(socket_desk):
    message = await socket_desk.dm("UREQ", "Laptop fan is loud")
    ack = socket_desk.fake.socket.acks[-1]
    assert ack.payload is None and ack.seconds < 1.0
    assert any("opened ticket #1" in m["text"]
               for m in socket_desk.fake.bot_messages("DUREQ", message["ts"]))
    await socket_desk.say("UBOB", INTAKE, "Wifi drops every hour")
    assert await ticket_count(socket_desk) == 2


async def test_commands_buttons_and_modals_work_over_the_socket(socket_desk):
    await socket_desk.dm("UREQ", "Need a new mouse")
    [card] = socket_desk.fake.bot_messages(TRIAGE, top_level=True)
    assert await socket_desk.click("UAGENT", card, "card.escalate") is not None
    await socket_desk.submit("UAGENT", {"reason": "VIP"})
    await socket_desk.command("UAGENT", "/ticket claim 1", channel=TRIAGE)
    [card] = socket_desk.fake.bot_messages(TRIAGE, top_level=True)
    assert "Sam" in str(card["blocks"])
    acks = socket_desk.fake.socket.acks
    assert len(acks) >= 4 and all(a.seconds < 1.0 for a in acks)


async def test_a_retry_attempt_of_an_event_already_taken_is_acknowledged_and_dropped(socket_desk):
    message = socket_desk.fake.add_message("DUREQ", "UREQ", "Keyboard sticky")
    event = payloads.message_event(message, channel_type="im")
    await socket_desk.send_event(event, event_id="Ev-same")
    calls = len(socket_desk.fake.calls)
    ack = await socket_desk.send_event(event, event_id="Ev-same", retry_num=1)
    assert ack is not None and ack.payload is None
    assert len(socket_desk.fake.calls) == calls
    assert await ticket_count(socket_desk) == 1


async def test_app_home_over_the_socket(socket_desk):
    await socket_desk.dm("UREQ", "Cannot reach the VPN")
    await socket_desk.open_home("UREQ")
    assert "#1" in str(socket_desk.fake.home_views["UREQ"]["blocks"])


async def test_stopping_closes_the_websocket(sqlite_url):
    async with SlackDesk(sqlite_url, mode="socket") as desk:
        assert await desk.adapter.is_connected()  # /readyz asks this
        await desk.adapter.stop()
        await desk.fake.socket.wait_disconnected()
        assert not desk.fake.socket.connections
        assert not await desk.adapter.is_connected()


async def test_a_refused_app_token_stops_the_start_with_a_clear_error(sqlite_url):
    from dataclasses import replace

    from bot.platforms.slack.adapter import SlackAdapter
    from bot.settings import Secret, SettingsError
    async with SlackDesk(sqlite_url, mode="socket") as desk:
        wrong = SlackAdapter(replace(desk.settings, slack_app_token=Secret("xapp-wrong")))
        with pytest.raises(SettingsError, match="SLACK_APP_TOKEN.*invalid_auth"):
            await wrong.start(desk.router)
        await wrong.stop()
