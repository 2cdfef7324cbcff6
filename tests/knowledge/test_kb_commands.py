"""``/kb`` in chat and ``/ticket kb``: everyone searches and reads, agents keep the
articles, and a requester never meets an internal article through any command."""

from __future__ import annotations

from bot.domain.tickets import TicketStatus
from tests.flows.story import FlowDesk
from tests.knowledge.test_self_help import _import_sample


def _last_private(desk: FlowDesk, user: str) -> str:
    return desk.private_to(user)[-1].text


async def _desk(url):
    desk = FlowDesk(url)
    await desk.__aenter__()
    await desk.staffed(agents=("sam",))
    await _import_sample(url)
    return desk


async def test_search_and_show_hide_internal_articles_from_requesters(sqlite_url):
    desk = await _desk(sqlite_url)
    try:
        await desk.command("ann", "kb search vpn gateway drop log")
        assert "KB-1" in _last_private(desk, "ann")
        assert "KB-6" not in _last_private(desk, "ann")
        await desk.command("ann", "kb show KB-6")
        assert _last_private(desk, "ann") == (
            "I can't find KB-6. `/kb search <words>` finds articles by what they say.")
        await desk.command("sam", "kb search vpn gateway drop log")
        assert "KB-6" in _last_private(desk, "sam")
        await desk.command("sam", "kb show KB-6")
        assert "VPN gateway restarts" in _last_private(desk, "sam")
        await desk.command("ann", "kb show 1")
        assert "The VPN keeps dropping" in _last_private(desk, "ann")
        async with desk.db.reading() as uow:
            articles = await uow.kb.all((await uow.workspaces.ensure(
                "test", "T-test", "", desk.clock.now())).id)
        assert next(a for a in articles if a.number == 1).opened == 1
    finally:
        await desk.__aexit__(None, None, None)


async def test_agents_add_edit_and_remove_requesters_may_not(sqlite_url):
    desk = await _desk(sqlite_url)
    try:
        await desk.command("ann", "kb add My tip :: do this")
        assert "is for agents" in _last_private(desk, "ann")
        await desk.command("sam", "kb add Request a monitor :: Ask in the hardware catalogue "
                                  "#hardware")
        assert _last_private(desk, "sam") == "Added KB-106: “Request a monitor”."
        await desk.command("sam", "kb add just a title")
        assert "I need a title and the text, with :: between them." in _last_private(desk, "sam")
        await desk.command("sam", "kb edit KB-106 Request a second monitor :: Use the catalogue")
        assert _last_private(desk, "sam") == "Saved KB-106: “Request a second monitor”."
        await desk.command("ann", "kb search second monitor catalogue")
        assert "KB-106 Request a second monitor" in _last_private(desk, "ann")
        await desk.command("sam", "kb remove KB-106")
        assert _last_private(desk, "sam") == "Removed KB-106: “Request a second monitor”."
        await desk.command("ann", "kb show KB-106")
        assert "I can't find KB-106" in _last_private(desk, "ann")
        await desk.command("sam", "kb show KB-x")
        assert "KB-x" in _last_private(desk, "sam") and "Usage" in _last_private(desk, "sam")
    finally:
        await desk.__aexit__(None, None, None)


async def test_ticket_kb_sends_the_article_as_a_public_reply(sqlite_url):
    desk = await _desk(sqlite_url)
    try:
        await desk.dm("ann", "printer on floor 2 is broken")
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket kb 1 KB-3")
        said = desk.requester_said(mark)
        assert any("The printer shows as offline or nothing prints" in t for t in said)
        assert [e.kind for e in await desk.timeline(1)].count("reply") == 1
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket kb 1 KB-6")
        assert desk.requester_said(mark) == []
        assert "is internal, for agents only" in _last_private(desk, "sam")
    finally:
        await desk.__aexit__(None, None, None)


async def test_draft_from_a_resolved_ticket_is_internal_until_edited(sqlite_url):
    desk = await _desk(sqlite_url)
    try:
        await desk.dm("ann", "Outlook keeps asking for my password")
        await desk.command("sam", "ticket reply 1 Remove the saved credentials and sign in again")
        await desk.command("sam", "ticket resolve 1 Cleared the credential manager")
        assert (await desk.ticket(1)).status is TicketStatus.RESOLVED
        await desk.command("sam", "kb draft 1")
        assert "I've started KB-106 from #1" in _last_private(desk, "sam")
        await desk.command("sam", "kb show KB-106")
        shown = _last_private(desk, "sam")
        assert "Outlook keeps asking for my password" in shown
        assert "Remove the saved credentials" in shown and "Cleared the credential" in shown
        await desk.command("ann", "kb show KB-106")
        assert "I can't find KB-106" in _last_private(desk, "ann")
    finally:
        await desk.__aexit__(None, None, None)


def test_discords_typed_kb_add_reads_as_the_text_form():
    from bot.platforms.discord.commands import read_command
    read = read_command({"name": "kb", "options": [{"type": 1, "name": "add", "options": [
        {"type": 3, "name": "title", "value": "Request a monitor"},
        {"type": 3, "name": "text", "value": "Use the catalogue #hardware"}]}]})
    assert read.text == "add Request a monitor :: Use the catalogue #hardware"
