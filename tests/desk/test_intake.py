"""Intake: a plain message opens a ticket, acknowledged in its own thread with #N."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from bot.domain.promises import PromiseKind
from bot.desk.words import when
from bot.templates import load_templates
from bot.storage.tables import PromiseRow, TicketEventRow, TicketRow
from tests.support.harness import DeskHarness


async def test_a_direct_message_opens_a_ticket_acknowledged_in_its_thread(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        event = await desk.dm("ann", "My VPN keeps dropping every few minutes")
        [ack] = desk.adapter.sent
        assert ack.message.channel_id == "D-ann"
        assert ack.message.thread_id == event.message_id
        assert "#1" in ack.text and "Ann" in ack.text
        assert "My VPN keeps dropping" in ack.text
        assert " by " in ack.text  # an honest time, not "soon"
        async with desk.db.unit_of_work() as uow:
            ticket = (await uow.session.execute(select(TicketRow))).scalar_one()
            assert ticket.status == "open" and ticket.number == 1
            assert ticket.first_message == event.text
            [promise] = (await uow.session.execute(select(PromiseRow))).scalars().all()
            assert promise.kind == PromiseKind.FIRST_RESPONSE.value
            assert promise.due_at > desk.clock.now()
            [opened] = (await uow.session.execute(select(TicketEventRow))).scalars().all()
            assert opened.kind == "opened"


async def test_the_acknowledged_time_is_the_first_response_promise(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.dm("ann", "Cannot print")
        async with desk.db.unit_of_work() as uow:
            promise = (await uow.session.execute(select(PromiseRow))).scalar_one()
        promised = when(load_templates(), promise.due_at, desk.clock.now(),
                        "UTC")
        assert promised in desk.adapter.sent[0].text


async def test_messages_in_other_channels_do_not_open_tickets(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.channel_message("ann", "C-general", "lunch anyone?")
        assert desk.adapter.sent == []


async def test_a_mention_anywhere_opens_a_ticket(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.channel_message("ann", "C-general", "@helpdesk the projector is dead",
                                   mentions_bot=True)
        [ack] = desk.adapter.sent
        assert ack.message.channel_id == "C-general" and "#1" in ack.text


async def test_messages_in_an_intake_channel_open_tickets(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.command("boss", "helpdesk intake <#C-help|help>")
        await desk.channel_message("ann", "C-help", "Wifi is slow on floor 3")
        ack = desk.adapter.sent[-1]
        assert ack.message.channel_id == "C-help" and "#1" in ack.text


async def test_a_reply_in_the_ticket_thread_attaches_to_the_ticket(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        first = await desk.dm("ann", "Laptop fan is loud")
        await desk.dm("ann", "It started after the update", thread_id=first.message_id)
        async with desk.db.unit_of_work() as uow:
            assert len((await uow.session.execute(select(TicketRow))).scalars().all()) == 1
            kinds = [e.kind for e in (await uow.session.execute(
                select(TicketEventRow).order_by(TicketEventRow.id))).scalars()]
        assert kinds == ["opened", "requester"]


async def test_outside_business_hours_the_ack_says_when_the_desk_opens(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        now = desk.clock.now()
        # Move to the next Saturday noon UTC: the default desk is closed at weekends.
        days = (5 - now.weekday()) % 7 or 7
        saturday = datetime(now.year, now.month, now.day, 12, tzinfo=timezone.utc)
        desk.clock.advance(saturday - now + __import__("datetime").timedelta(days=days))
        await desk.dm("ann", "Locked out of my account")
        text = desk.adapter.sent[0].text
        assert "closed" in text and "Monday at 09:00 UTC" in text
