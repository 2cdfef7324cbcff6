"""Major incidents, through the fake adapter: one problem, many people, one voice.

Three people report the VPN down; Sam declares INC-1 from their tickets and posts an
update, which each of them reads once in their own thread (and the status channel
once). A fourth report is told at intake that the problem is known, with the latest
update and the next time, and asked "Is this what you're seeing?": Yes links it, No
keeps it an ordinary ticket. The incident's promise lapses and is covered once for
all of them (an apology and a new time each, one reminder to the lead, an escalation
to the leads on the second miss). Resolving asks each requester to confirm; one says
no and their ticket leaves the incident, reopened with its own promise.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.promises import PromiseKind, PromiseStatus
from bot.domain.tickets import TicketStatus
from tests.flows.story import TRIAGE, FlowDesk

STATUS = "C-status"
PEOPLE = ("ann", "bob", "cat")


async def _declared(desk: FlowDesk, *, leads=("lee",)) -> None:
    """Ann, Bob and Cat report the VPN down; Sam declares INC-1 from #1-#3."""
    await desk.staffed(leads=leads)
    await desk.command("boss", f"helpdesk status <#{STATUS}|status>")
    for person in PEOPLE:
        await desk.dm(person, "The VPN is down, I can't connect")
    await desk.command("sam", "incident declare VPN down from 1, 2 #3")


def _in_status(desk: FlowDesk) -> list[str]:
    return [s.text for s in desk.adapter.sent if s.message.channel_id == STATUS]


async def test_declaring_links_the_tickets_and_releases_their_own_promises(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        answer = desk.private_to("sam")[-1].text
        assert answer.startswith("Declared INC-1 “VPN down”; you lead it.")
        assert "Linked #1, #2 and #3 to INC-1." in answer
        for number in (1, 2, 3):
            told = desk.requester_thread(number)[-1].text
            assert told.startswith(f"Your ticket #{number} is part of a known problem, INC-1")
            # Their first-response promise is kept by the incident, not left to lapse.
            first = [p for p in await desk.promises(number)
                     if p.kind is PromiseKind.FIRST_RESPONSE]
            assert [p.status for p in first] == [PromiseStatus.KEPT]
            assert await desk.open_promises(number) == []
            assert any(e.kind == "incident_linked" for e in await desk.timeline(number))
        assert any("Sam has declared INC-1" in t for t in _in_status(desk))


async def test_an_update_reaches_every_thread_once_and_the_status_channel(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        mark = len(desk.adapter.sent)
        await desk.command("sam", "incident update INC-1 The provider is restoring the "
                                  "gateway next 30m")
        said = [s for s in desk.since(mark) if s.message.audience == "requester"
                and "provider is restoring" in s.text]
        assert sorted(s.message.ticket_number for s in said) == [1, 2, 3]
        for number in (1, 2, 3):
            thread = [s.text for s in desk.requester_thread(number)
                      if "provider is restoring" in s.text]
            assert thread == [f"An update on INC-1 (“VPN down”), which your ticket #{number} "
                              "is part of: The provider is restoring the gateway\n"
                              "The next update will be by today at 10:30 UTC."]
        assert sum("provider is restoring" in t for t in _in_status(desk)) == 1
        assert desk.private_to("sam")[-1].text == (
            "Sent the update on INC-1 to 3 people. The next one is promised by today at "
            "10:30 UTC.")
        assert any(e.kind == "incident_update" for e in await desk.timeline(2))


async def test_next_counts_only_as_the_last_two_words_reading_as_a_time(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident update INC-1 Fixed by the next shift")
        last = desk.requester_thread(1)[-1].text
        assert "Fixed by the next shift\n" in last  # "next shift" is no time: the P1 interval
        await desk.command("sam", "incident show INC-1")
        show = desk.private_to("sam")[-1].text
        assert show.startswith("**INC-1 VPN down**\nStatus: open · Lead: Sam\n"
                               "Tickets: #1, #2 and #3")
        assert "Fixed by the next shift" in show


async def test_a_new_report_is_told_at_once_and_yes_links_it(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident update INC-1 The provider is on it next 45m")
        cards_before = len([s for s in desk.adapter.sent if s.message.title])
        await desk.dm("dan", "vpn not working for me either")
        ack = desk.ack(4)
        assert ack.text.endswith(
            "\n\nThis looks like a problem we already know about: INC-1, “VPN down”.\n"
            "The latest update: “The provider is on it”\n"
            "The next update will be by today at 10:45 UTC.\nIs this what you're seeing?")
        assert [b.label for b in ack.message.buttons] == ["Yes", "No, something else"]
        # No card of its own: the incident counts it.
        assert len([s for s in desk.adapter.sent if s.message.title]) == cards_before
        assert [p.kind for p in await desk.open_promises(4)] == [PromiseKind.FIRST_RESPONSE]
        await desk.press_button("dan", ack, "Yes")
        assert desk.private_to("dan")[-1].text == (
            "Thanks. I've added #4 to INC-1: you'll get its updates right here, the next one "
            "by today at 10:45 UTC.")
        assert await desk.open_promises(4) == []


async def test_no_something_else_keeps_an_ordinary_ticket(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.dm("eve", "VPN asks for a new password")
        ack = desk.ack(4)
        await desk.press_button("eve", ack, "No, something else")
        assert desk.requester_thread(4)[-1].text.startswith(
            "Thanks for letting us know. #4 stays a ticket of its own, and someone will "
            "reply by")
        assert [p.kind for p in await desk.open_promises(4)] == [PromiseKind.FIRST_RESPONSE]
        assert desk.cards(4), "an ordinary ticket gets its card"
        await desk.command("sam", "incident show INC-1")
        assert "Tickets: #1, #2 and #3" in desk.private_to("sam")[-1].text


async def test_a_lapsed_incident_promise_is_covered_once_for_all(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident update INC-1 Looking into it next 30m")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(minutes=31))
        heard = desk.since(mark)
        apologies = [s for s in heard if s.message.audience == "requester"]
        assert sorted(s.message.ticket_number for s in apologies) == [1, 2, 3]
        assert all("we said we'd update you by today at 10:30 UTC and haven't yet. Sorry "
                   "about that." in s.text for s in apologies)
        reminders = [s for s in heard if s.message.direct_to == "sam"]
        assert len(reminders) == 1 and reminders[0].text.startswith(
            "Reminder: INC-1 (“VPN down”) had an update due today at 10:30 UTC for 3 people")
        assert not [s for s in heard if s.message.direct_to == "lee"]  # first miss
        assert sum("there wasn't. Sorry" in s.text for s in heard
                   if s.message.channel_id == STATUS) == 1
        # None of the tickets covered its own promise: they hold the incident's.
        assert not [s for s in heard if "An update on #" in s.text]
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=2))
        second = desk.since(mark)
        escalations = [s for s in second if s.message.direct_to == "lee"]
        assert len(escalations) == 1
        assert escalations[0].text.startswith("Escalation: INC-1 (“VPN down”, led by Sam) has "
                                              "missed its update 2 times in a row; 3 people")
        assert len([s for s in second if s.message.audience == "requester"]) == 3


async def test_an_incidents_escalation_reaches_the_lead_on_duty_then_the_triage_channel(
        sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _declared(desk, leads=("lee", "kim"))
        await desk.command("boss", "helpdesk oncall it Kim")
        await desk.command("sam", "incident update INC-1 Looking into it next 30m")
        await desk.advance(timedelta(minutes=31))  # the first miss: a reminder only
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=2))  # the second: an escalation
        second = desk.since(mark)
        to_kim = [i for i, s in enumerate(second) if s.message.direct_to == "kim"]
        noted = [i for i, s in enumerate(second)
                 if s.message.channel_id == TRIAGE and not s.message.thread_id
                 and s.text.startswith("I've asked Kim to look at INC-1 (“VPN down”, led by Sam)")]
        assert len(to_kim) == 1 and len(noted) == 1, desk.adapter.transcript()
        assert to_kim[0] < noted[0]
        assert not [s for s in second if s.message.direct_to == "lee"]  # not on duty
        assert not [s for s in second if s.message.audience == "requester"
                    and "Kim" in s.text]


async def test_resolving_asks_each_and_a_no_detaches_that_ticket(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident resolve INC-1 The gateway is back")
        assert desk.private_to("sam")[-1].text == (
            "INC-1 is resolved. I've asked its 3 requesters to confirm their tickets are "
            "solved.")
        questions = {n: desk.requester_thread(n)[-1] for n in (1, 2, 3)}
        for number, question in questions.items():
            assert question.text == (
                f"Good news: INC-1 (“VPN down”), which your ticket #{number} was part of, is "
                "resolved: “The gateway is back”. Has this solved your problem?")
            assert (await desk.ticket(number)).status is TicketStatus.RESOLVED
        await desk.press_button("ann", questions[1], "Yes, it's solved")
        await desk.press_button("bob", questions[2], "No, not yet")
        assert (await desk.ticket(1)).status is TicketStatus.CLOSED
        assert (await desk.ticket(2)).status is TicketStatus.IN_PROGRESS
        assert desk.requester_thread(2)[-1].text.startswith("Sorry it isn't sorted yet.")
        assert [p.kind for p in await desk.open_promises(2)] == [PromiseKind.STATUS_UPDATE]
        await desk.command("sam", "incident show INC-1")
        show = desk.private_to("sam")[-1].text
        assert "Status: resolved" in show and "Tickets: #1 and #3" in show


async def test_unlinking_gives_the_ticket_its_own_promise_from_now(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.advance(timedelta(minutes=20))
        await desk.command("sam", "incident unlink INC-1 2")
        assert desk.private_to("sam")[-1].text == (
            "Unlinked #2 from INC-1; each has its own promised time again.")
        (promise,) = await desk.open_promises(2)
        assert promise.kind is PromiseKind.FIRST_RESPONSE
        assert promise.made_at == desk.clock.now()
        assert desk.requester_thread(2)[-1].text.startswith(
            "Your ticket #2 is no longer part of INC-1")


async def test_refusals_say_what_was_wrong(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident link INC-9 1")
        assert desk.private_to("sam")[-1].text.startswith("I can't find INC-9.")
        await desk.command("sam", "incident link INC-1 abc")
        assert "“abc” isn't" in desk.private_to("sam")[-1].text or \
            "ticket number" in desk.private_to("sam")[-1].text
        await desk.command("sam", "incident declare")
        assert "I need a few words to name the incident" in desk.private_to("sam")[-1].text
        await desk.command("ann", "incident declare Mine now")
        assert "declaring incidents" in desk.private_to("ann")[-1].text
        await desk.command("sam", "incident declare Printer from 1")
        assert "#1 is already part of INC-1" in desk.private_to("sam")[-1].text
        await desk.command("sam", "incident list")
        listed = desk.private_to("sam")[-1].text
        assert "• INC-2 “Printer”: open, led by Sam, 0 tickets" in listed
        assert "• INC-1 “VPN down”: open, led by Sam, 3 tickets" in listed


async def test_the_ticket_and_its_card_name_the_incident(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident update INC-1 Provider contacted")
        await desk.command("sam", "ticket show 2")
        shown = desk.private_to("sam")[-1].text.splitlines()
        assert shown[2] == "Part of INC-1 “VPN down”."  # under the two header lines
        assert any(line.endswith(": Sam linked it to INC-1") for line in shown)
        assert any(line.endswith(": Sam posted an update on INC-1: “Provider contacted”")
                   for line in shown)
        card = desk.cards(2)[-1].message
        fields = dict(card.fields)
        assert fields["Incident"] == "INC-1 “VPN down”"
        assert fields["Next promise"] == "incident update due today at 11:00 UTC"


async def test_alike_tickets_get_one_card_updated_in_place_and_a_declare_button(db_url):
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        texts = ["VPN is down", "my vpn keeps dropping", "VPN not connecting",
                 "vpn down again", "cannot reach the VPN", "Printer jammed",
                 "the vpn is broken", "VPN??"]
        for minute, (person, text) in enumerate(zip("abcdefgh", texts)):
            await desk.dm(f"p{person}", text)
            await desk.advance(timedelta(minutes=2))
        # Four alike: each its own card. The fifth forms the cluster, on #1's card.
        assert all(desk.cards(n) for n in (1, 2, 3, 4, 6))
        assert not desk.cards(5) and not desk.cards(7) and not desk.cards(8)
        first, *edits = desk.cards(1)
        assert edits and all(e.message.edit_of == first.message_id for e in edits)
        card = edits[-1].message
        assert card.title == ("7 tickets in 14 minutes look like one problem: "
                              "“VPN is down”")
        assert card.text.startswith("#1, #2, #3, #4, #5, #7 and #8.")
        (button,) = card.buttons
        assert button.label == "Declare incident"
        await desk.press_button("sam", edits[-1], "Declare incident")
        assert desk.private_to("sam")[-1].text.startswith("Declared INC-1 “VPN is down”")
        await desk.command("sam", "incident show INC-1")
        assert "Tickets: #1, #2, #3, #4, #5, #7 and #8" in desk.private_to("sam")[-1].text
        declared = desk.cards(1)[-1].message
        assert declared.text == "Declared as INC-1: #1, #2, #3, #4, #5, #7 and #8."
        assert declared.buttons == ()
        # A requester cannot press it.
        await desk.press_button("pa", edits[-1], "Declare incident")
        assert "Declared" not in desk.private_to("pa")[-1].text


async def test_a_forged_yes_changes_nothing(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.dm("dan", "vpn not working")
        ticket = await desk.ticket(4)
        for value in (f"{ticket.id}:999999999999999999999999", f"{ticket.id}:x",
                      f"{ticket.id}:77"):
            await desk.press("dan", "incident.yes", value, channel="D-dan")
            assert desk.private_to("dan")[-1].text.startswith("That question is for")
        assert [p.kind for p in await desk.open_promises(4)] == [PromiseKind.FIRST_RESPONSE]
