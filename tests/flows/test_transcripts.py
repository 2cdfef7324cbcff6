"""``/ticket transcript``: the ticket's history as an offline HTML page and Markdown, in
the asker's direct messages only. Notes never reach a requester's transcript; the HTML
escapes everything a person wrote; someone else's ticket reads as one that does not
exist."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import timedelta

from tests.flows.story import FlowDesk

HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> & "quotes" <!channel>'


async def _worked(desk: FlowDesk) -> None:
    """Ann's #1: claimed, a note, a reply, her answer, resolved; Bob's #2."""
    await desk.staffed()
    await desk.dm("ann", "The VPN drops " + HOSTILE)
    await desk.command("sam", "ticket claim 1")
    await desk.command("sam", "ticket note 1 Her laptop is on the old client SECRET-NOTE")
    await desk.command("sam", "ticket reply 1 Could you tell me your laptop's name?")
    await desk.advance(timedelta(minutes=5))
    await desk.requester_says("ann", 1, "It's LT-0423 </div><b>bold</b>")
    await desk.command("sam", "ticket resolve 1 Updated the VPN client")
    await desk.dm("bob", "Teams has no sound")


def files_of(sent) -> dict[str, str]:
    return {a.filename: a.text for a in sent.message.attachments}


async def test_a_requester_gets_their_transcript_in_dms_without_notes(db_url):
    async with FlowDesk(db_url) as desk:
        await _worked(desk)
        mark = len(desk.adapter.sent)
        await desk.command("ann", "ticket transcript 1 with-notes", is_direct=True)
        assert len(desk.since(mark)) == 1  # asked in the DM: the files are the answer
        sent = desk.last()
        assert sent.message.direct_to == "ann" and sent.message.ephemeral_to is None
        assert sent.text.startswith("Here's the transcript of #1")
        assert "Internal notes stay with the agents" in sent.text
        files = files_of(sent)
        assert set(files) == {"ticket-1.html", "ticket-1.md"}
        for name, text in files.items():
            assert "SECRET-NOTE" not in text and "old client" not in text
            assert "internal note" not in text
            asked = "Could you tell me your laptop's name?"
            assert (html.escape(asked) if name.endswith(".html") else asked) in text
            assert "LT-0423" in text
            assert "Updated the VPN client" in text
        page = files["ticket-1.html"]
        assert "first response" in page and "kept on time" in page


async def test_the_html_escapes_everything_a_person_wrote(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.command("sam", "ticket transcript 1", is_direct=True)
        page = files_of(desk.last())["ticket-1.html"]
        # No tag a person typed survives as a tag; their words are there as text.
        for raw in ("<script>", "<img", "</div><b>", "<b>bold</b>"):
            assert raw not in page
        assert html.escape('<script>alert("x")</script>', quote=True) in page
        assert "&lt;/div&gt;&lt;b&gt;bold&lt;/b&gt;" in page
        assert "<script" not in page.lower() and "onerror=alert" not in page.replace(
            "&lt;img src=x onerror=alert(1)&gt;", "")
        # It loads nothing: no remote reference at all.
        assert "http://" not in page and "https://" not in page and "src=" not in \
            page.replace("&lt;img src=x", "")
        markdown = files_of(desk.last())["ticket-1.md"]
        assert "<script>" not in markdown and "&lt;script&gt;" in markdown


async def test_an_agent_gets_notes_only_when_asking(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.command("sam", "ticket transcript 1", is_direct=True)
        assert all("SECRET-NOTE" not in text for text in files_of(desk.last()).values())
        await desk.command("sam", "ticket transcript 1 with-notes", is_direct=True)
        files = files_of(desk.last())
        assert all("SECRET-NOTE" in text for text in files.values())
        assert "For the desk's agents only" not in files["ticket-1.html"]
        assert "With internal notes: for the desk&#x27;s agents only." in files["ticket-1.html"]


async def test_someone_elses_ticket_reads_as_none(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        mark = len(desk.adapter.sent)
        await desk.command("bob", "ticket transcript 1")
        answers = desk.since(mark)
        assert [a.text for a in answers] == [
            "I can't find ticket #1. `/ticket mine` lists your tickets."]
        assert not answers[0].message.attachments


async def test_asked_in_a_channel_it_still_goes_to_dms_and_says_so(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        mark = len(desk.adapter.sent)
        await desk.command("bob", "ticket transcript 2", channel="C-general")
        answers = desk.since(mark)
        with_files = [a for a in answers if a.message.attachments]
        assert len(with_files) == 1 and with_files[0].message.direct_to == "bob"
        assert with_files[0].message.channel_id == ""
        said = [a for a in answers if not a.message.attachments]
        assert [a.text for a in said] == [
            "I've sent the transcript of #2 to our direct messages."]
        assert said[0].message.ephemeral_to == "bob"


async def test_an_unknown_option_is_answered_with_the_usage(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.command("sam", "ticket transcript 1 everything")
        assert "“everything” isn't something I can add to a transcript." in desk.last().text
        assert "transcript <n> with-notes" in desk.last().text
        assert not desk.last().message.attachments


async def _confirmed(desk: FlowDesk) -> None:
    """Ann's #1 resolved and confirmed solved by her."""
    await _worked(desk)
    question = next(s for s in reversed(desk.adapter.sent)
                    if "Yes, it's solved" in desk.buttons(s))
    await desk.press_button("ann", question, "Yes, it's solved")


async def test_on_close_the_requester_is_offered_the_transcript_when_switched_on(db_url):
    async with FlowDesk(db_url) as desk:
        desk.desk.defaults = replace(desk.desk.defaults, offer_transcript=True)
        await _confirmed(desk)
        [offer] = [s for s in desk.requester_thread(1) if "Send me the transcript" in
                   desk.buttons(s)]
        assert offer.text.startswith("If you'd like a copy of #1 to keep")
        mark = len(desk.adapter.sent)
        await desk.press_button("bob", offer, "Send me the transcript")
        assert [s.text for s in desk.since(mark)] == [
            "Only the person who asked for #1 can answer that."]
        await desk.press_button("ann", offer, "Send me the transcript")
        sent = desk.last()
        assert sent.message.direct_to == "ann"
        assert {a.filename for a in sent.message.attachments} == {"ticket-1.html", "ticket-1.md"}
        assert all("SECRET-NOTE" not in a.text for a in sent.message.attachments)


async def test_the_offer_is_off_by_default(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _confirmed(desk)
        assert not [s for s in desk.adapter.sent if "Send me the transcript" in desk.buttons(s)]
        assert any("rate" in s.text.lower() or "satisfied" in s.text.lower()
                   for s in desk.requester_thread(1))


async def test_the_requesters_copy_has_their_rating_and_what_they_were_told(sqlite_url):
    """Finding 15: a requester's own rating and comment are in their copy; the desk's
    automatic escalation (the leads were told, the requester never was) is not; a
    manual one reads as what the requester heard ("asked a lead to look at it too")."""
    async with FlowDesk(sqlite_url) as desk:
        await _confirmed(desk)
        thanks = next(s for s in desk.requester_thread(1) if "thanks for confirming" in s.text)
        await desk.press_button("ann", thanks, "2")
        await desk.requester_says("ann", 1, "Slow but fine COMMENT-7")
        ticket = await desk.ticket(1)
        async with desk.db.unit_of_work() as uow:
            await uow.tickets.add_event(ticket.id, "escalated", desk.clock.now(),
                                        body="status update missed 2 times in a row",
                                        automatic=True)
        await desk.staffed(agents=(), leads=("lee",), triage=None)
        await desk.command("sam", "ticket escalate 1 REASON-9 for the staff")
        await desk.command("ann", "ticket transcript 1", is_direct=True)
        mine = files_of(desk.last())
        await desk.command("sam", "ticket transcript 1", is_direct=True)
        staff = files_of(desk.last())
        for name, text in mine.items():
            assert "rated it 2/5" in text and "COMMENT-7" in text, name
            assert "missed 2 times" not in text and "escalated it to the leads" not in text
            assert "REASON-9" not in text and "asked a lead to look at it too" in text
        assert "missed 2 times" in staff["ticket-1.md"] and "REASON-9" in staff["ticket-1.md"]
