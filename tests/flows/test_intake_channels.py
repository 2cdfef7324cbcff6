"""Intake through every channel people already use: one plain message is enough.

A ticket opens from a DM, a message in an intake channel, a mention anywhere, the
ticket emoji (by the author, or by an agent on the author's behalf), ``/ticket new``
and the intake panel's button; a platform's re-delivery of one event never makes a
second ticket.
"""

from __future__ import annotations

import pytest

from bot.core import ButtonPressed, ReactionAdded
from bot.domain.tickets import TicketStatus
from tests.flows.story import FlowDesk
from tests.support.harness import WORKSPACE


async def test_a_direct_message_opens_a_ticket_answered_in_its_own_thread(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        message = await desk.dm("ann", "My VPN keeps dropping every few minutes")
        ack, card = desk.adapter.sent
        assert ack.message.channel_id == "D-ann" and ack.message.thread_id == message.message_id
        assert ack.text.startswith("Thanks, Ann. I've opened ticket #1 for you: "
                                   "“My VPN keeps dropping every few minutes”.")
        assert card.message.channel_id == "C-triage" and card.message.title.startswith("#1 · ")
        ticket = await desk.ticket(1)
        assert ticket.status is TicketStatus.OPEN
        assert (ticket.channel_id, ticket.thread_id) == ("D-ann", message.message_id)


async def test_a_message_in_an_intake_channel_opens_a_ticket_there(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(intake="C-help")
        message = await desk.channel_message("bob", "C-help", "Wifi is slow on floor 3")
        ack = desk.adapter.sent[0]
        assert (ack.message.channel_id, ack.message.thread_id) == ("C-help", message.message_id)
        assert "Thanks, Bob. I've opened ticket #1" in ack.text
        assert await desk.ticket_count() == 1


async def test_chatter_outside_intake_channels_opens_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(intake="C-help")
        await desk.channel_message("bob", "C-general", "lunch anyone?")
        assert desk.adapter.sent == [] and await desk.ticket_count() == 0


async def test_a_mention_anywhere_opens_a_ticket_in_that_channel(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        message = await desk.channel_message("cat", "C-marketing",
                                             "@helpdesk the projector is dead", mentions_bot=True)
        ack = desk.adapter.sent[0]
        assert ack.message.channel_id == "C-marketing"
        assert ack.message.thread_id == message.message_id
        assert "I've opened ticket #1 for you" in ack.text


async def test_the_author_reacting_with_the_ticket_emoji_opens_a_ticket(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.react("dan", "ticket", author="dan", text="My mouse stopped working",
                         channel="C-general", message_id="m-dan")
        ack = desk.adapter.sent[0]
        assert (ack.message.channel_id, ack.message.thread_id) == ("C-general", "m-dan")
        assert ack.text.startswith("Thanks, Dan. I've opened ticket #1 for you: "
                                   "“My mouse stopped working”.")
        assert "opened this ticket for you" not in ack.text


async def test_an_agent_reacting_opens_the_ticket_for_the_author_and_says_so(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.react("sam", "🎫", author="eve", text="The screen flickers",
                         channel="C-general", message_id="m-eve")
        ack = desk.adapter.sent[0]
        assert ack.text.startswith("Thanks, Eve. I've opened ticket #1 for you")
        assert ack.text.endswith("Sam opened this ticket for you.")
        async with desk.db.unit_of_work() as uow:
            ticket = await desk.ticket(1)
            requester = await uow.people.get(ticket.requester_id)
        assert requester.external_id == "eve"  # the author is the requester, not the agent


async def test_someone_else_reacting_to_a_message_that_is_not_theirs_opens_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.react("fay", "ticket", author="gus", text="My keyboard is sticky",
                         channel="C-general", message_id="m-gus")
        assert desk.adapter.sent == [] and await desk.ticket_count() == 0
        # Gus himself still can.
        await desk.react("gus", "ticket", author="gus", text="My keyboard is sticky",
                         channel="C-general", message_id="m-gus")
        assert await desk.ticket_count() == 1


async def test_other_emoji_and_bot_messages_open_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.react("dan", "thumbsup", author="dan", text="Nice work", channel="C-general")
        await desk.deliver(ReactionAdded(
            platform=desk.platform, workspace_id=WORKSPACE, event_id="rx-bot",
            actor=desk.actor("sam"), channel_id="C-general", emoji="ticket", message_id="m-bot",
            message_author=desk.actor("deploybot", is_bot=True), message_text="Deploy finished"))
        assert desk.adapter.sent == [] and await desk.ticket_count() == 0


async def test_a_second_reaction_on_the_same_message_opens_no_second_ticket(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        for who in ("dan", "sam", "dan"):
            await desk.react(who, "ticket", author="dan", text="Mouse broken",
                             channel="C-general", message_id="m-dan")
        assert await desk.ticket_count() == 1
        assert sum("I've opened ticket" in s.text for s in desk.adapter.sent) == 1


async def test_ticket_new_starts_a_thread_with_its_acknowledgement(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("hal", "ticket new Laptop won't boot after the update")
        ack = desk.adapter.sent[0]
        assert ack.message.thread_id is None  # the acknowledgement is the thread's root
        assert "Thanks, Hal. I've opened ticket #1" in ack.text
        ticket = await desk.ticket(1)
        assert (ticket.channel_id, ticket.thread_id) == ("D-hal", ack.message_id)
        # Later messages about the ticket go into that thread.
        await desk.command("sam", "ticket claim 1")
        claimed = [s for s in desk.requester_thread(1) if "now looking after #1" in s.text]
        assert claimed and claimed[0].message.thread_id == ack.message_id


async def test_the_intake_panel_button_opens_a_ticket_from_its_form(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk panel", channel="C-help")
        panel = next(s for s in desk.adapter.sent if s.message.buttons)
        assert panel.message.channel_id == "C-help"
        await desk.press_button("ivy", panel, "Open a ticket", form={"text": "Teams won't start"})
        ack = next(s for s in desk.adapter.sent if "I've opened ticket #1" in s.text)
        assert ack.message.channel_id == "C-help" and "Thanks, Ivy" in ack.text
        # An empty form opens nothing, and is answered (issue 14: it was met with silence).
        await desk.press_button("ivy", panel, "Open a ticket", form={"text": "  "})
        assert await desk.ticket_count() == 1
        assert desk.private_to("ivy")[-1].text == "I need a few words about the problem."


@pytest.mark.parametrize("kind", ["dm", "reaction", "command", "panel"])
async def test_a_redelivered_event_never_makes_a_second_ticket(db_url, kind):
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        if kind == "dm":
            event = await desk.dm("ann", "Outlook crashes on start", event_id="Ev-1")
        elif kind == "reaction":
            event = await desk.react("ann", "ticket", author="ann", text="Outlook crashes",
                                     channel="C-general", message_id="m-1")
        elif kind == "command":
            event = await desk.command("ann", "ticket new Outlook crashes")
        else:
            event = ButtonPressed(platform=desk.platform, workspace_id=WORKSPACE,
                                  event_id="btn-panel", actor=desk.actor("ann"),
                                  channel_id="C-help", action="intake.panel",
                                  form={"text": "Outlook crashes"})
            await desk.deliver(event)
        said = len(desk.adapter.sent)
        for _ in range(3):
            await desk.deliver(event)  # the platform retries the very same event
        assert await desk.ticket_count() == 1
        assert len(desk.adapter.sent) == said  # and nothing is said twice



async def test_a_reaction_to_a_message_the_platform_would_not_show_still_opens_a_ticket(
        sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.deliver(ReactionAdded(
            platform=desk.platform, workspace_id=WORKSPACE, event_id="rx-unreadable",
            actor=desk.actor("eve"), channel_id="C-general", emoji="🎫", message_id="m-gone",
            message_author=desk.actor("eve"), message_unreadable=True))
        ticket = await desk.ticket(1)
        assert ticket.first_message == ("(I couldn't read the message this ticket was "
                                        "opened from.)")
        assert desk.adapter.sent[0].text.startswith("Thanks, Eve. I've opened ticket #1")
