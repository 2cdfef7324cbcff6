"""Every sentence the desk says outside the ledger is true, and says what happened.

Escalating with no lead asks nobody and says so to the staff, not to the requester. A
relayed reply is the agent's words as written, with the next update on its own line
only when it is useful; a follow-up's words are not glued into the desk's sentence; the
timeline names what happened. A thank-you after a close stays with the closed ticket.
People are named by name, and no sentence hedges a plural with "(s)".
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.tickets import TicketStatus
from tests.flows.story import FlowDesk, full_text


PRINTER = "The printer is jammed"  # what Ann opens ticket #1 with in these stories


async def _closed(desk: FlowDesk, **staff) -> None:
    """#1 resolved by Sam and confirmed solved by Ann."""
    await desk.claimed(PRINTER, **staff)
    await desk.command("sam", "ticket resolve 1 Replaced the drum")
    await desk.press_button("ann", desk.requester_thread(1)[-1], "Yes, it's solved")
    assert (await desk.ticket(1)).status is TicketStatus.CLOSED


# ---- escalation ------------------------------------------------------------------------

async def test_escalating_with_no_leads_promises_the_requester_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket escalate 1 the whole floor is down")
        said = desk.since(mark)
        assert not [s for s in said if s.message.audience == "requester"], \
            desk.adapter.transcript()
        answer = desk.private_to("sam")[-1].text
        assert answer == ("The desk has no leads yet, so nobody was asked to look at #1. "
                          "I've told the admins, who can add one with `/helpdesk leads add`.")
        [admin] = [s for s in said if s.message.direct_to == "boss"]
        assert admin.text == (
            "Sam asked for a lead on #1 from Ann (“the whole floor is down”), but the desk has "
            "no leads yet, so nobody was asked. Add one with `/helpdesk leads add <person>`.")
        # The agents' thread says what happened, and the timeline does not claim an escalation.
        assert "no leads" in desk.triage_thread(1)[-1].text
        await desk.command("ann", "ticket show 1")
        assert "escalated" not in desk.private_to("ann")[-1].text


async def test_escalating_with_a_lead_still_tells_the_requester(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER, leads=("lee",))
        await desk.command("sam", "ticket escalate 1")
        assert desk.requester_thread(1)[-1].text.startswith("I've asked a lead to look at #1")
        assert desk.private_to("sam")[-1].text == "Escalated #1 to Lee."


async def test_an_unowned_ticket_is_escalated_without_a_capital_the_desk(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "The printer is jammed")
        await desk.command("sam", "ticket escalate 1")
        lead = desk.private_to("lee")[-1].text
        assert lead == "Sam escalated #1 from Ann. Priority P3, nobody owns it yet."
        assert "The desk" not in desk.requester_thread(1)[-1].text


# ---- relaying what agents write ------------------------------------------------------------

async def test_a_question_to_the_requester_is_relayed_as_written(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket reply 1 Which floor is the printer on?")
        assert desk.requester_thread(1)[-1].text == "Sam: Which floor is the printer on?"


async def test_the_next_update_after_a_reply_is_its_own_paragraph(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket reply 1 I've ordered a new drum.")
        assert desk.requester_thread(1)[-1].text == (
            "Sam: I've ordered a new drum.\n\nThe next update will be by tomorrow at 10:00 UTC.")


async def test_a_follow_ups_words_are_the_agents_own_line(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket followup 1 2h check the VPN logs")
        assert desk.requester_thread(1)[-1].text == (
            "Sam will update you on #1 by today at 12:00 UTC.\nSam: check the VPN logs")


async def test_the_timeline_says_what_happened(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket reply 1 Can you restart it?")
        await desk.command("sam", "ticket note 1 looks like hardware")
        await desk.command("sam", "ticket resolve 1 Replaced the drum")
        await desk.command("sam", "ticket show 1")
        shown = desk.private_to("sam")[-1].text
        assert "• today at 10:00 UTC: Sam replied: “Can you restart it?”" in shown
        assert "• today at 10:00 UTC: Sam added an internal note: “looks like hardware”" in shown
        assert "• today at 10:00 UTC: Sam resolved it: “Replaced the drum”" in shown
        assert "replied: “Replaced the drum”" not in shown
        # An agent reads the agents' words for a status, never "your confirmation".
        assert "your confirmation" not in shown
        await desk.command("ann", "ticket show 1")
        mine = desk.private_to("ann")[-1].text
        assert "Sam resolved it: “Replaced the drum”" in mine and "internal" not in mine


async def test_nothing_marked_as_a_note_in_the_triage_thread_reaches_the_requester(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        for text in ("NOTE- the vendor owes us", "Note - call them back", "note: drum",
                     "[note] spare in B2", "(note) asked Kim", "internal: VIP user",
                     "Note— cheaper part", "#note toner"):
            before = len(desk.requester_thread(1))
            await desk.in_triage_thread("sam", 1, text)
            assert len(desk.requester_thread(1)) == before, text
            assert desk.private_to("sam")[-1].text == "Note added to #1. Only agents can see it."
        await desk.in_triage_thread("sam", 1, "Note that the printer restarts at noon")
        assert desk.requester_thread(1)[-1].text.startswith(
            "Sam: Note that the printer restarts at noon")


# ---- after a close -------------------------------------------------------------------------

async def test_a_thank_you_in_the_thread_of_a_closed_ticket_does_not_reopen_it(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        mark = len(desk.adapter.sent)
        await desk.requester_says("ann", 1, "Thanks again, all good now!")
        assert (await desk.ticket(1)).status is TicketStatus.CLOSED
        assert desk.requester_thread(1)[-1].text == (
            "You're welcome, and thanks for letting us know. I've passed that on to Sam.")
        assert [s.text for s in desk.since(mark) if s.message.direct_to == "sam"] == [
            "Ann wrote on closed #1: Thanks again, all good now!"]
        assert (await desk.timeline(1))[-1].body == "Thanks again, all good now!"


async def test_a_thank_you_by_direct_message_after_a_close_opens_no_ticket(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        mark = len(desk.adapter.sent)
        await desk.dm("ann", "Thanks again, all good now!")
        assert await desk.ticket_count() == 1
        assert [s.text for s in desk.since(mark) if s.message.direct_to == "sam"] == [
            "Ann wrote on closed #1: Thanks again, all good now!"]
        answer = [s for s in desk.since(mark) if s.message.channel_id == "D-ann"][-1]
        assert answer.text == ("You're welcome, and thanks for letting us know. "
                               "I've added that to #1 and passed it on to Sam.")


async def test_anything_but_a_short_thank_you_after_a_close_is_heard_as_before(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        await desk.dm("ann", "Thanks, but the scanner is broken now")
        assert await desk.ticket_count() == 2
        await desk.requester_says("ann", 1, "Thanks, but it jammed again")
        assert (await desk.ticket(1)).status is TicketStatus.IN_PROGRESS


async def test_a_thank_you_long_after_a_close_is_a_new_message(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        await desk.advance(timedelta(days=8))
        await desk.dm("ann", "thanks!")
        assert await desk.ticket_count() == 2


async def test_not_yet_asks_what_is_still_wrong(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket resolve 1")
        await desk.press_button("ann", desk.requester_thread(1)[-1], "No, not yet")
        text = desk.requester_thread(1)[-1].text
        assert text.endswith("What's still not working? Tell us here and Sam will pick it up.")


async def test_an_agents_reopen_is_not_put_in_the_requesters_mouth(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk, agents=("sam", "kim"))
        mark = len(desk.adapter.sent)
        await desk.command("kim", "ticket reopen 1")
        said = desk.since(mark)
        [to_ann] = [s for s in said if s.message.audience == "requester"]
        assert to_ann.text == ("Kim has reopened #1 to look at it again. Sam will update you "
                               "by tomorrow at 10:00 UTC.")
        [to_sam] = [s for s in said if s.message.direct_to == "sam"]
        assert to_sam.text == "Kim reopened #1 from Ann. Please update them by tomorrow at 10:00 UTC."


async def test_a_requesters_reopen_by_writing_carries_their_words_to_the_owner(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        mark = len(desk.adapter.sent)
        await desk.requester_says("ann", 1, "It jammed again this morning")
        [to_sam] = [s for s in desk.since(mark) if s.message.direct_to == "sam"]
        assert "It jammed again this morning" in to_sam.text


async def test_a_comment_goes_to_the_owner_it_is_said_to_reach(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        rating = [s for s in desk.requester_thread(1) if s.message.buttons][-1]
        await desk.press_button("ann", rating, "4")
        mark = len(desk.adapter.sent)
        await desk.requester_says("ann", 1, "Quicker first reply next time")
        assert desk.requester_thread(1)[-1].text == "Thank you, I've passed that on to Sam."
        assert [s.text for s in desk.since(mark) if s.message.direct_to == "sam"] == [
            "Ann rated #1 4/5 and wrote: Quicker first reply next time"]


async def test_a_second_rating_is_answered_not_recorded(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        rating = [s for s in desk.requester_thread(1) if s.message.buttons][-1]
        await desk.press_button("ann", rating, "4")
        await desk.press_button("ann", rating, "1")
        assert desk.private_to("ann")[-1].text == "You've already rated #1 4/5. Thank you!"
        assert [e.body for e in await desk.timeline(1) if e.kind == "feedback"] == ["4"]


async def test_a_closed_tickets_card_offers_only_a_reopen(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _closed(desk)
        card = desk.cards(1)[-1]
        assert [b.label for b in card.message.buttons] == ["Reopen"]
        await desk.press_button("sam", card, "Reopen")
        assert (await desk.ticket(1)).status is TicketStatus.IN_PROGRESS
        assert "Claim" in [b.label for b in desk.cards(1)[-1].message.buttons]


async def test_a_resolved_tickets_card_offers_a_reply_and_a_reopen(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket resolve 1")
        assert [b.label for b in desk.cards(1)[-1].message.buttons] == ["Reply", "Reopen"]


# ---- waiting ---------------------------------------------------------------------------------

async def test_waiting_on_a_party_named_with_waiting_on_is_said_once(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket wait 1 third-party waiting on Canon")
        text = desk.requester_thread(1)[-1].text
        assert "we're waiting on Canon before" in text and "waiting on waiting" not in text
        await desk.command("sam", "ticket wait 1 requester")
        await desk.command("sam", "ticket wait 1 third-party for the Fortinet support team")
        assert "we're waiting on the Fortinet support team before" in \
            desk.requester_thread(1)[-1].text


# ---- people and plurals ----------------------------------------------------------------------

async def test_a_person_added_by_id_alone_is_named_by_mention_not_by_number(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk agents add <@1080278227353616384>")
        assert desk.private_to("boss")[-1].text == (
            "Done: <@1080278227353616384> can now work the desk as an agent.")
        await desk.command("boss", "helpdesk show")
        assert "Agents: <@1080278227353616384>" in desk.private_to("boss")[-1].text


async def test_a_person_the_desk_knows_is_named_by_their_display_name(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.dm("carol", "hello")  # the desk has met Carol
        await desk.command("boss", "helpdesk agents add <@carol>")
        assert desk.private_to("boss")[-1].text == "Done: Carol can now work the desk as an agent."


async def test_removing_someone_who_is_not_an_agent_says_so(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk agents remove @nobody")
        assert desk.private_to("boss")[-1].text == (
            "nobody isn't one of the desk's agents, so nothing changed.")
        await desk.command("boss", "helpdesk agents remove <@sam> @nobody")
        assert desk.private_to("boss")[-1].text == (
            "Done: Sam can no longer work the desk as an agent.\n"
            "nobody isn't one of the desk's agents, so nothing changed.")
        await desk.command("boss", "helpdesk agents add <@kim|Kim>")
        await desk.command("boss", "helpdesk agents add <@kim|Kim>")
        assert desk.private_to("boss")[-1].text == "Kim is already an agent, so nothing changed."


async def test_hours_and_holidays_are_described_without_hedged_plurals(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk holiday add 2030-12-25")
        await desk.command("boss", "helpdesk show")
        shown = desk.private_to("boss")[-1].text
        assert "Hours: Mon-Fri 09:00-17:00 (UTC), 1 holiday" in shown
        assert "(s)" not in shown
        await desk.command("boss", "helpdesk holiday add 2030-12-26")
        await desk.command("boss", "helpdesk show")
        assert "Hours: Mon-Fri 09:00-17:00 (UTC), 2 holidays" in desk.private_to("boss")[-1].text


async def test_the_words_of_the_desks_hours_are_templates(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        async with desk.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure(desk.platform, "T-test", "T-test", desk.clock.now())
            await uow.workspaces.save_settings(ws.id, {**ws.settings, "templates": {
                "days": {"mon": "lun", "fri": "ven"}, "admin": {"day_range": "{first} à {last}"}}})
        await desk.command("boss", "helpdesk show")
        assert "lun à ven 09:00-17:00 (UTC)" in full_text(desk.private_to("boss")[-1])


# ---- what counts as a short thank-you ------------------------------------------------------

def test_a_short_thank_you_is_recognised_conservatively():
    from bot.desk.features.conversation import is_short_thanks
    for thanks in ("Thanks again, all good now!", "thanks!", "Thank you so much 🙂", "thx",
                   "Cheers, that did it", "Much appreciated", "Great, thank you!", "ty 🙏"):
        assert is_short_thanks(thanks), thanks
    for other in ("Thanks, but it's still broken", "thanks, can you also reset my password",
                  "Thank you! Is the VPN down again?", "It happened again, thanks",
                  "thanks, it doesn't work", "The printer works now", "thanks, please check X",
                  "Thanks. The scanner on floor 3 shows error E4 whenever I try to scan "
                  "to email, could someone look?", "no thanks", "ok"):
        assert not is_short_thanks(other), other


def test_hours_of_several_runs_read_as_a_list():
    from datetime import time
    from bot.desk.features.admin import describe_hours
    from bot.domain.calendar import BusinessCalendar
    from bot.templates import load_templates
    templates = load_templates()
    day = (time(9), time(17))
    calendar = BusinessCalendar(hours=(day, day, day, day, (time(9), time(13)), None, None),
                                timezone="Europe/London", holidays=frozenset())
    assert describe_hours(calendar, templates) == \
        "Mon-Thu 09:00-17:00, Fri 09:00-13:00 (Europe/London)"
    closed = BusinessCalendar(hours=(None,) * 7, timezone="UTC", holidays=frozenset())
    assert describe_hours(closed, templates) == "closed every day (UTC)"


def test_a_count_chooses_its_own_word():
    from bot.templates import Templates
    templates = Templates({"x": {"things": "{count:thing|things}",
                                 "misses": "missed {count:once|# times in a row}"}})
    assert [templates.render("x.things", count=n) for n in (0, 1, 2)] == \
        ["0 things", "1 thing", "2 things"]
    assert [templates.render("x.misses", count=n) for n in (1, 3)] == \
        ["missed once", "missed 3 times in a row"]


async def test_words_that_are_not_a_thank_you_on_a_resolved_ticket_say_it_is_not_solved(
        sqlite_url):
    # Asked "Has this solved your problem?", Ann writes that it hasn't. The desk must not
    # later close it "since we didn't hear back": it is back in progress, Sam has her words.
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket resolve 1 Replaced the drum")
        mark = len(desk.adapter.sent)
        await desk.requester_says("ann", 1, "thanks, but still slow sometimes")
        assert (await desk.ticket(1)).status is TicketStatus.IN_PROGRESS
        to_sam = [s.text for s in desk.since(mark) if s.message.direct_to == "sam"]
        assert any("thanks, but still slow sometimes" in text for text in to_sam), to_sam
        assert not [p for p in await desk.open_promises(1)
                    if p.kind.value == "awaiting_confirmation"]


async def test_lists_of_people_and_tickets_read_as_a_sentence(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk agents add <@sam|Sam> <@kim|Kim>")
        assert desk.private_to("boss")[-1].text == (
            "Done: Sam and Kim can now work the desk as agents.")
        await desk.command("boss", "helpdesk leads add <@lee|Lee> <@max|Max> <@ana|Ana>")
        assert desk.private_to("boss")[-1].text == (
            "Done: Lee, Max and Ana can now work the desk as leads.")
        await desk.command("boss", "helpdesk show")
        shown = desk.private_to("boss")[-1].text
        [leads] = [line for line in shown.splitlines() if line.startswith("• Leads:")]
        assert leads.count(",") == 1 and " and " in leads, leads
        await desk.dm("ann", "The VPN drops")
        await desk.dm("bob", "The printer is jammed")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket claim 2")
        await desk.command("sam", "ticket escalate 1")
        answer = desk.private_to("sam")[-1].text
        assert answer.startswith("Escalated #1 to ") and answer.count(",") == 1 \
            and " and " in answer, answer
        await desk.command("boss", "helpdesk agents remove <@sam>")
        assert "Sam no longer owns #1 and #2: each waits for someone to claim it" \
            in desk.private_to("boss")[-1].text


def test_the_list_words_are_the_templates():
    from bot.templates import load_templates
    words = load_templates()
    assert [words.join(names) for names in ([], ["Sam"], ["Sam", "Kim"],
                                            ["Sam", "Kim", "Ana"])] == [
        "", "Sam", "Sam and Kim", "Sam, Kim and Ana"]
    assert words.join(["P1", "P2", "P3", "P4"], alternatives=True) == "P1, P2, P3 or P4"
    assert words.join(["add", "remove"], alternatives=True) == "add or remove"
    french = words.with_overrides({"lists": {"pair": "{first} et {second}",
                                             "many": "{rest} et {last}"}})
    assert french.join(["Sam", "Kim", "Ana"]) == "Sam, Kim et Ana"
