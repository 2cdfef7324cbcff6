"""Every way a ticket opens on Slack, and the messages that must not open one.

Real Bolt app in HTTP mode, real router and outbox on SQLite, Web API faked locally.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.tables import PersonRow, TicketRow, WorkspaceRow
from tests.support.slack import events as payloads
from tests.support.slack.desk import GENERAL, INTAKE, TRIAGE, slack  # noqa: F401

LIVE = ("<!channel>", "<!here>", "<!everyone>")


def mrkdwn_texts(message: dict) -> list[str]:
    """The texts Slack parses for markup: ``text`` and every mrkdwn object in the blocks."""
    found = [message["text"]]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(message.get("blocks") or [])
    return found


async def tickets(desk) -> list[TicketRow]:
    async with desk.db.unit_of_work() as uow:
        return list((await uow.session.execute(select(TicketRow).order_by(TicketRow.id))).scalars())


def ack_in(desk, channel: str, thread_ts: str) -> dict:
    [ack] = [m for m in desk.fake.bot_messages(channel, thread_ts) if "opened ticket" in m["text"]]
    return ack


async def test_a_direct_message_opens_a_ticket_acknowledged_in_its_thread(slack):
    message = await slack.dm("UREQ", "My VPN keeps dropping")
    ack = ack_in(slack, "DUREQ", message["ts"])
    assert "Thanks, Alex. I've opened ticket #1" in ack["text"]
    assert ack["metadata"] == {"event_type": "helpdesk_outbox",
                               "event_payload": {"key": ack["metadata"]["event_payload"]["key"],
                                                 "ticket": 1}}
    [card] = slack.fake.bot_messages(TRIAGE, top_level=True)
    assert card["blocks"][0]["text"]["text"] == "#1 · My VPN keeps dropping"
    [ticket] = await tickets(slack)
    assert (ticket.channel_id, ticket.thread_id, ticket.triage_message_id) == \
        ("DUREQ", message["ts"], card["ts"])


async def test_the_requester_is_known_by_their_slack_profile(slack):
    slack.fake.add_user("UTZ", "Kenji", email="kenji@corp.example", tz="Asia/Tokyo")
    await slack.dm("UTZ", "Laptop will not boot")
    async with slack.db.unit_of_work() as uow:
        person = (await uow.session.execute(
            select(PersonRow).where(PersonRow.external_id == "UTZ"))).scalar_one()
    assert (person.display_name, person.email, person.tz) == \
        ("Kenji", "kenji@corp.example", "Asia/Tokyo")
    before = len(slack.fake.calls_to("users.info"))
    await slack.dm("UTZ", "and the charger is warm")
    assert len(slack.fake.calls_to("users.info")) == before  # cached


async def test_a_message_in_an_intake_channel_opens_a_ticket_but_elsewhere_it_does_not(slack):
    await slack.say("UBOB", GENERAL, "lunch anyone?")
    assert await tickets(slack) == []
    message = await slack.say("UBOB", INTAKE, "Printer on 3rd floor is jammed")
    assert ack_in(slack, INTAKE, message["ts"])
    assert len(await tickets(slack)) == 1


async def test_a_mention_opens_one_ticket_though_slack_sends_two_events(slack):
    message = await slack.mention("UBOB", GENERAL, "can someone reset my password?")
    [ticket] = await tickets(slack)
    assert ticket.first_message == "can someone reset my password?"
    assert ack_in(slack, GENERAL, message["ts"])


async def test_a_thread_reply_attaches_to_its_ticket(slack):
    first = await slack.dm("UREQ", "Outlook crashes on start")
    await slack.dm("UREQ", "It started after the update", thread_ts=first["ts"])
    assert len(await tickets(slack)) == 1
    [card] = slack.fake.bot_messages(TRIAGE, top_level=True)
    relays = slack.fake.bot_messages(TRIAGE, card["ts"])
    assert any("Alex replied on #1: It started after the update" in m["text"] for m in relays)


async def test_the_ticket_reaction_opens_a_ticket_for_the_messages_author(slack):
    message = await slack.say("UBOB", GENERAL, "wifi in room 4 is down again")
    await slack.react("UBOB", message, "thumbsup")
    assert await tickets(slack) == []
    await slack.react("UBOB", message)
    [ticket] = await tickets(slack)
    assert ticket.first_message == "wifi in room 4 is down again"
    assert ack_in(slack, GENERAL, message["ts"])
    replies = slack.fake.calls_to("conversations.replies")[-1].args
    assert (replies["ts"], replies["limit"]) == (message["ts"], "1")


async def test_an_agent_can_react_on_someones_behalf_to_a_reply_in_a_thread(slack):
    root = await slack.say("UREQ", GENERAL, "quick question")
    reply = await slack.say("UBOB", GENERAL, "my monitor flickers", thread_ts=root["ts"])
    await slack.react("UAGENT", reply)
    [ticket] = await tickets(slack)
    assert (ticket.first_message, ticket.thread_id) == ("my monitor flickers", root["ts"])
    assert "Sam opened this ticket for you." in ack_in(slack, GENERAL, root["ts"])["text"]


async def test_an_unreadable_reacted_message_still_opens_a_ticket_with_a_link(slack):
    message = await slack.say("UBOB", GENERAL, "the projector smells of smoke")
    slack.fake.throttle("conversations.replies", 60)
    await slack.react("UBOB", message)
    [ticket] = await tickets(slack)
    assert "couldn't read the message" in ticket.first_message
    assert f"/archives/{GENERAL}/p{message['ts'].replace('.', '')}" in ticket.first_message


async def test_ticket_new_in_the_bots_dm_threads_under_its_acknowledgement(slack):
    result = await slack.command("UREQ", "/ticket new Keyboard missing keys")
    assert result.status == 200 and result.body == ""
    [ack] = [m for m in slack.fake.bot_messages("DUREQ") if "opened ticket" in m["text"]]
    assert "thread_ts" not in ack
    await slack.dm("UREQ", "the Q and W keys", thread_ts=ack["ts"])
    [ticket] = await tickets(slack)
    assert ticket.thread_id == ack["ts"]
    [card] = slack.fake.bot_messages(TRIAGE, top_level=True)
    assert any("the Q and W keys" in m["text"] for m in slack.fake.bot_messages(TRIAGE, card["ts"]))


async def test_the_bots_own_messages_other_bots_and_edits_open_nothing(slack):
    own = slack.fake.add_message(INTAKE, "UBOT", "I am the bot", bot_id="BBOT")
    await slack.send_event(payloads.message_event(own, subtype="bot_message"))
    other = slack.fake.add_message(INTAKE, "UOTHER", "Build failed", bot_id="BJENKINS")
    await slack.send_event(payloads.message_event(other))
    edited = slack.fake.add_message(INTAKE, "UBOB", "typo fixed")
    await slack.send_event({"type": "message", "subtype": "message_changed", "channel": INTAKE,
                            "channel_type": "channel", "ts": slack.fake.next_ts(),
                            "message": {"user": "UBOB", "text": edited["text"], "ts": edited["ts"]},
                            "previous_message": {"user": "UBOB", "text": "typo"}})
    await slack.send_event(payloads.message_event(
        slack.fake.add_message(INTAKE, "UBOB", ""), subtype="channel_join"))
    assert await tickets(slack) == []
    looked_up = {c.args["user"] for c in slack.fake.calls_to("users.info")}
    assert not looked_up & {"UOTHER", "UBOT"}


async def test_other_bots_open_tickets_when_the_desk_is_told_to_listen_to_them(sqlite_url):
    from tests.support.slack.desk import SlackDesk
    async with SlackDesk(sqlite_url, allow_bots=True) as desk:
        await desk.set_channel("intake", INTAKE)
        alert = desk.fake.add_message(INTAKE, "UMON", "Disk full on db-2", bot_id="BMON")
        await desk.send_event(payloads.message_event(alert, subtype="bot_message",
                                                     username="Monitoring"))
        [ticket] = await tickets(desk)
        assert ticket.first_message == "Disk full on db-2"


async def test_what_people_type_can_never_ping_a_group(slack):
    await slack.dm("UREQ", "<!channel> server down &amp; &lt;!here&gt; <@UBOB> <http://x.io|x>")
    for message in slack.fake.bot_messages() + slack.fake.ephemerals:
        for text in mrkdwn_texts(message):  # plain_text (headers, labels) is never parsed
            assert not any(live in text for live in LIVE), text
            assert "<http" not in text
    ack = slack.fake.bot_messages("DUREQ")[0]["text"]
    assert "&lt;!channel&gt; server down &amp; &lt;!here&gt; <@UBOB>" in ack.replace("\u200b", "")


async def test_every_query_is_scoped_to_the_team_the_request_came_from(slack):
    await slack.dm("UREQ", "Team one problem")
    other = slack.fake.add_message("DUREQ", "UREQ", "Team two problem")
    await slack.send_event(payloads.message_event(other, channel_type="im"), team="T0OTHER")
    async with slack.db.unit_of_work() as uow:
        teams = dict((await uow.session.execute(
            select(WorkspaceRow.external_id, func.count(TicketRow.id))
            .join(TicketRow, TicketRow.workspace_id == WorkspaceRow.id)
            .group_by(WorkspaceRow.external_id))).all())
    assert teams == {slack.team: 1, "T0OTHER": 1}
    await slack.command("UREQ", "/ticket show 1", team="T0OTHER")
    shown = [m["text"] for m in slack.fake.bot_messages("DUREQ") if "Status:" in m["text"]]
    assert shown and "Team two problem" in shown[-1] and "Team one" not in shown[-1]


async def test_a_failed_profile_lookup_does_not_lose_the_request(slack):
    slack.fake.fail("users.info", "internal_error")
    slack.fake.add_user("UNEW", "Nia")
    await slack.dm("UNEW", "Need access to the shared drive")
    [ticket] = await tickets(slack)
    assert ticket.first_message == "Need access to the shared drive"


async def test_concurrent_lookups_of_one_person_share_one_request(slack):
    import asyncio
    slack.forget_people()
    before = len(slack.fake.calls_to("users.info"))
    actors = await asyncio.gather(*(slack.adapter.people.actor(slack.team, "UADMIN")
                                    for _ in range(5)))
    assert len(slack.fake.calls_to("users.info")) == before + 1
    assert {(a.display_name, a.is_platform_admin, a.tz) for a in actors} == \
        {("Pat", True, "Europe/London")}


async def test_idle_waits_for_a_listener_bolt_starts_late(slack, monkeypatch):
    """Bolt acknowledges an event and starts its listener in a task of its own, as late
    as the event loop lets it: ``idle`` must wait for that listener however late it
    starts, not for a guessed number of turns of the loop."""
    import asyncio

    from slack_bolt.listener.async_listener_start_handler import (
        AsyncDefaultListenerStartHandler,
    )

    async def late_start(self, request, response) -> None:
        await asyncio.sleep(0.2)

    monkeypatch.setattr(AsyncDefaultListenerStartHandler, "handle", late_start)
    message = slack.fake.add_message(slack.fake.dm_of("UREQ"), "UREQ", "The printer is on fire")
    body = payloads.event_callback(payloads.message_event(message, channel_type="im"),
                                   team=slack.team)
    assert (await slack.sender.event(body)).status == 200  # acknowledged before the work
    assert await tickets(slack) == []
    await slack.adapter.idle()
    [ticket] = await tickets(slack)
    assert ticket.first_message == "The printer is on fire"
