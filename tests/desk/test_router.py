"""The router's middleware and its one error handler, through the whole desk."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.core import IncomingMessage
from bot.domain.people import Role
from bot.storage.tables import TicketRow
from tests.support.harness import WORKSPACE, DeskHarness


async def _ticket_count(desk: DeskHarness) -> int:
    async with desk.db.unit_of_work() as uow:
        return (await uow.session.execute(select(func.count()).select_from(TicketRow))).scalar_one()


async def test_a_redelivered_event_opens_one_ticket_and_answers_once(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        first = await desk.dm("ann", "Outlook crashes on start", event_id="Ev1")
        await desk.deliver(first)  # the platform retries the same event
        await desk.dm("ann", "Outlook crashes on start", event_id="Ev1")
        assert await _ticket_count(desk) == 1
        assert len(desk.adapter.sent) == 1


async def test_messages_from_bots_are_ignored(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.dm("helperbot", "I am a bot", is_bot=True)
        assert await _ticket_count(desk) == 0
        assert desk.adapter.sent == []


async def test_a_requester_cannot_use_admin_commands_and_nothing_changes(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.command("ann", "helpdesk agents add ann")
        [answer] = desk.adapter.sent
        assert answer.message.ephemeral_to == "ann"
        assert "for admins" in answer.text and "Sorry" in answer.text
        async with desk.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure("test", WORKSPACE, "", desk.clock.now())
            assert await uow.people.with_role(ws.id, Role.AGENT) == []


async def test_configured_admins_and_platform_admins_may_change_the_desk(sqlite_url):
    async with DeskHarness(sqlite_url, admins=("boss",)) as desk:
        await desk.command("boss", "helpdesk agents add sam")
        await desk.command("owner", "helpdesk leads add <@lee|Lee>", is_platform_admin=True)
        texts = [s.text for s in desk.adapter.sent]
        assert texts[0] == "Done: sam can now work the desk as an agent."
        assert texts[1] == "Done: Lee can now work the desk as a lead."
        async with desk.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure("test", WORKSPACE, "", desk.clock.now())
            assert [p.external_id for p in await uow.people.with_role(ws.id, Role.AGENT)] == ["sam"]
            assert [p.external_id for p in await uow.people.with_role(ws.id, Role.LEAD)] == ["lee"]


async def test_an_unknown_command_gets_a_polite_hint(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.command("ann", "ticket frobnicate 3")
        [answer] = desk.adapter.sent
        assert "don't know" in answer.text and "/ticket help" in answer.text
        assert answer.message.ephemeral_to == "ann"


async def test_a_handler_crash_rolls_back_and_apologises_with_a_reference(sqlite_url, caplog):
    async with DeskHarness(sqlite_url) as desk:
        async def broken(ctx):
            await ctx.answer("this must never be sent")
            raise ValueError("boom")
        desk.router.on_command("ticket", "explode", broken)
        await desk.command("ann", "ticket explode")
        [answer] = desk.adapter.sent
        assert answer.text.startswith("Sorry, something went wrong on my side")
        assert "reference" in answer.text
        assert "boom" not in answer.text
        assert "failed (reference" in caplog.text


async def test_a_duplicate_of_a_failed_event_is_not_answered_twice(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        event = await desk.command("ann", "ticket frobnicate")
        await desk.deliver(event)
        assert len(desk.adapter.sent) == 1


async def test_the_router_accepts_events_of_unknown_shape_quietly(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        event = IncomingMessage(platform="test", workspace_id=WORKSPACE, event_id="x1",
                                actor=desk.actor("ann"), channel_id="C-random", text="hello all",
                                message_id="x1")
        await desk.deliver(event)
        assert desk.adapter.sent == [] and await _ticket_count(desk) == 0


async def test_a_refusal_with_no_words_for_it_is_an_apology_with_a_reference(sqlite_url, caplog):
    """A refusal naming a template that does not exist is the desk's bug: the person is
    told so, with a reference for the log, never shown a key or half a sentence."""
    from bot.domain.errors import DomainError

    async with DeskHarness(sqlite_url) as desk:
        async def refuses(ctx):
            raise DomainError("errors.no_such_refusal", number=4)
        desk.router.on_command("ticket", "odd", refuses)
        await desk.command("ann", "ticket odd")
        [answer] = desk.adapter.sent
        assert answer.text.startswith("Sorry, something went wrong on my side")
        assert "no_such_refusal" not in answer.text
        reference = answer.text.rsplit("reference ", 1)[1].rstrip(").")
        assert (f"errors.no_such_refusal (fields: number) (reference {reference})"
                in caplog.text)


async def test_a_refusal_is_worded_by_the_workspace_when_it_rewords_it(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.command("ann", "ticket claim 1")  # the workspace exists from here on
        async with desk.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure("test", WORKSPACE, "", desk.clock.now())
            await uow.workspaces.save_settings(ws.id, {"templates": {
                "input": {"need_ticket_number": "Which ticket? A number, please."},
                "commands": {"ticket_claim": "taking tickets on"}}})
        await desk.command("boss", "ticket claim")
        await desk.command("ann", "ticket claim 1")
        assert [s.text for s in desk.adapter.sent[-2:]] == [
            "Which ticket? A number, please. Usage: `/ticket claim <n>`",
            "Sorry, taking tickets on is for agents of the desk. If you need it, ask an admin "
            "of the help desk."]
