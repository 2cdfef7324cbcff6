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
from tests.flows.story import MONDAY, TRIAGE, FlowDesk

STATUS = "C-status"
HR_TRIAGE, HR_INTAKE = "C-hr-triage", "C-hr"
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


def _incident_cards(desk: FlowDesk) -> list:
    """Every drawing of an incident's own card in the triage channel."""
    return [s for s in desk.adapter.sent if s.message.audience == "agents"
            and (s.message.title or "").startswith("INC-")]


async def test_a_new_report_is_told_at_once_and_yes_links_it(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident update INC-1 The provider is on it next 45m")
        await desk.dm("dan", "vpn not working for me either")
        ack = desk.ack(4)
        assert ack.text.endswith(
            "\n\nThis looks like a problem we already know about: INC-1, “VPN down”.\n"
            "The latest update: “The provider is on it”\n"
            "The next update will be by today at 10:45 UTC.\nIs this what you're seeing?")
        assert [b.label for b in ack.message.buttons] == ["Yes", "No, something else"]
        # Until Yes it is an ordinary ticket the team owes a reply: no card of its own,
        # but named on the incident's one card, and listed by /incident show.
        assert desk.cards(4) == []
        [card] = _incident_cards(desk)
        assert card.message.channel_id == TRIAGE
        assert card.message.title == "INC-1 “VPN down”"
        assert card.text == (
            "Led by Sam · open · 3 tickets linked.\n"
            "Asked “Is this what you're seeing?”, no answer yet (1): #4. Each is an ordinary "
            "ticket owed a reply: `/ticket show <n>` or `/ticket claim <n>`; one that changes "
            "gets its own card.")
        await desk.command("sam", "incident show INC-1")
        assert "Asked “Is this what you're seeing?”, no answer yet (1): #4." \
            in desk.private_to("sam")[-1].text
        assert [p.kind for p in await desk.open_promises(4)] == [PromiseKind.FIRST_RESPONSE]
        await desk.press_button("dan", ack, "Yes")
        assert desk.private_to("dan")[-1].text == (
            "Thanks. I've added #4 to INC-1: you'll get its updates right here, the next one "
            "by today at 10:45 UTC.")
        assert await desk.open_promises(4) == []
        # Linked, the incident counts it: its card is redrawn (at its pace), and #4
        # still has no card of its own.
        await desk.advance(timedelta(seconds=31))
        last = _incident_cards(desk)[-1]
        assert last.message.edit_of == card.message_id
        assert last.text == ("Led by Sam · open · 4 tickets linked.\n"
                             "Every report asked about it has been answered.")
        assert desk.cards(4) == []


async def test_a_storm_of_reports_is_one_incident_card_edited_at_a_bounded_pace(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        mark = len(desk.adapter.sent)
        for n in range(12):
            await desk.dm(f"p{n}", "the VPN is down for me too")
            await desk.advance(timedelta(seconds=5))  # 12 reports in a minute
        await desk.advance(timedelta(seconds=60))
        writes = [s for s in desk.since(mark) if s.message.channel_id == TRIAGE]
        # One post and an edit at most every 30 s: not one card per report.
        assert all(s in _incident_cards(desk) for s in writes)
        assert 2 <= len(writes) <= 4, [s.text for s in writes]
        assert writes[0].message.edit_of is None
        assert all(s.message.edit_of == writes[0].message_id for s in writes[1:])
        # The last drawing counts every one of them.
        assert "no answer yet (12): #4, #5, #6," in writes[-1].text
        assert all(desk.cards(n) == [] for n in range(4, 16))


async def test_a_waiting_report_gets_its_own_card_when_it_leaves_the_incidents_shadow(db_url):
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        for person in ("dan", "eve", "fay"):
            await desk.dm(person, "vpn down here as well")
        assert [desk.cards(n) for n in (4, 5, 6)] == [[], [], []]
        # An agent acts on it: it is theirs to work, on a card of its own.
        await desk.command("sam", "ticket claim 4")
        assert desk.cards(4) and dict(desk.cards(4)[-1].message.fields)["Owner"] == "Sam"
        # Its requester answers No: an ordinary ticket, with its card.
        await desk.press_button("eve", desk.ack(5), "No, something else")
        assert desk.cards(5)
        # The incident is resolved with #6 still unanswered: it stays owed a reply, and
        # gets its card so nobody loses sight of it.
        await desk.command("sam", "incident resolve INC-1 Gateway replaced")
        assert desk.cards(6)
        assert (await desk.ticket(6)).status is not TicketStatus.RESOLVED
        await desk.advance(timedelta(seconds=31))
        last = _incident_cards(desk)[-1].text
        assert last.startswith("Led by Sam · resolved · 3 tickets linked.")
        assert "no answer yet" not in last
        for number in (4, 5, 6):
            assert (await desk.ticket(number)).offered_incident_id is None


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
            "Unlinked #2 from INC-1; it has its own promised time again.")
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
        refused = desk.private_to("sam")[-1].text
        assert refused.startswith("Nothing was declared")  # an incident of nobody
        assert "#1 is already part of INC-1" in refused
        await desk.command("sam", "incident declare Printer")
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
        # Someone who works only another team links none of them (RECHECK-20 N2).
        await desk.command("boss", "helpdesk team add hr")
        await desk.command("boss", "helpdesk agents add <@hana|Hana> team hr")
        await desk.press_button("hana", edits[-1], "Declare incident")
        assert desk.private_to("hana")[-1].text.startswith(
            "#1 is with team it, and you don't work team it, so nothing was linked"), \
            desk.private_to("hana")[-1].text
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


# -- the review's findings (FINDINGS-1520) ---------------------------------------------

LIVE_MARKUP = ("<!channel>", "<!here>", "@here", "@everyone", "@channel")


async def test_the_ledgers_incident_messages_ping_nobody(db_url):
    """H1: a title with group mentions is repeated defanged by the ledger's cover (the
    apology, the status channel, the lead's reminder and the escalation), as it is by
    the commands."""
    async with FlowDesk(db_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.command("boss", f"helpdesk status <#{STATUS}|status>")
        await desk.dm("ann", "The VPN is down, I can't connect")
        await desk.command("sam", "incident declare <!channel> VPN @here down from 1")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=1, minutes=1))  # the first miss: a reminder
        await desk.advance(timedelta(hours=4))  # the second: an escalation too
        heard = desk.since(mark)
        covers = [s for s in heard if "INC-1" in s.text]
        kinds = {("status" if s.message.channel_id == STATUS else
                  s.message.direct_to or s.message.audience) for s in covers}
        assert {"status", "sam", "lee", "requester"} <= kinds, desk.adapter.transcript()
        for sent in covers:
            assert not any(word in sent.text for word in LIVE_MARKUP), sent.text
            assert "VPN @\u200bhere down" in sent.text


async def test_a_ticket_asked_about_a_known_problem_is_never_out_of_sight(db_url):
    """H2: the ticket asked "Is this what you're seeing?" is an ordinary ticket until
    Yes, with a reply promised: its team sees it whether or not anyone answers: named
    on the incident's card at once, and on a card of its own by the heads-up before
    its reply would be late."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.dm("dan", "vpn not working for me either")
        assert "Is this what you're seeing?" in desk.ack(4).text
        assert "no answer yet (1): #4." in _incident_cards(desk)[-1].text
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=6))  # nobody answers
        heads_up = [s for s in desk.since(mark) if s.message.channel_id == TRIAGE
                    and "#4" in s.text and not s.message.title]
        assert heads_up
        (card,) = desk.cards(4)[:1]
        assert card.message.channel_id == TRIAGE and card.message.title.startswith("#4")
        assert (await desk.ticket(4)).offered_incident_id is None


async def test_an_incident_is_offered_only_to_its_own_teams_tickets(db_url):
    """H2: IT's VPN incident is not offered to a question in HR's intake channel; with
    one team in the workspace every incident is offered to every ticket."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)  # one team: INC-1 is of IT, the default team
        await desk.command("boss", "helpdesk team add hr")
        await desk.command("boss", "helpdesk agents add <@hana|Hana> team hr")
        await desk.command("boss", f"helpdesk triage <#{HR_TRIAGE}|hr-triage> team hr")
        await desk.command("boss", f"helpdesk intake <#{HR_INTAKE}|ask-hr> team hr")
        await desk.channel_message("hal", HR_INTAKE, "vpn down, can I work from the office?")
        ack = desk.ack(4)
        assert "INC-1" not in ack.text and not ack.message.buttons
        assert desk.cards(4)[-1].message.channel_id == HR_TRIAGE
        await desk.dm("dan", "vpn not working for me either")  # IT's front door
        assert "This looks like a problem we already know about: INC-1" in desk.ack(5).text
        # An incident of HR's tickets is offered to HR's intake.
        await desk.command("hana", "incident declare Payroll portal down from 4")
        await desk.channel_message("hil", HR_INTAKE, "the payroll portal is down")
        assert "INC-2" in desk.ack(6).text


async def _lapse_twice(desk: FlowDesk) -> list:
    """INC-1's update lapses twice in a row; what everyone heard meanwhile."""
    mark = len(desk.adapter.sent)
    await desk.advance(timedelta(hours=1, minutes=1))  # the first miss
    await desk.advance(timedelta(hours=4))  # the second
    return desk.since(mark)


async def test_an_incident_escalation_reaches_the_lead_on_duty_alone(db_url):
    """H3: a repeated miss escalates to the lead on duty of the incident's team, once
    per miss, never to every lead at every miss; the second escalation of the run
    also tells the team's other leads, once (docs/teams.md)."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk, leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it <@lee|Lee>")
        heard = await _lapse_twice(desk)
        escalated = [s.message.direct_to for s in heard if s.text.startswith("Escalation: INC-1")]
        assert escalated == ["lee"], desk.adapter.transcript()
        mark = len(desk.adapter.sent)
        # The third miss (the new time stretches with each miss): Lee again, and Kim
        # once.
        due = (await desk.open_incident_promise()).due_at
        await desk.advance(due - desk.clock.now() + timedelta(minutes=1))
        third = desk.since(mark)
        escalated = [s.message.direct_to for s in third
                     if s.text.startswith("Escalation: INC-1")]
        assert escalated == ["lee", "kim"]
        (to_kim,) = [s.text for s in third if s.message.direct_to == "kim"]
        assert "and again after a lead was asked" in to_kim and "I've asked Lee" in to_kim
        assert [s.text for s in third if s.message.channel_id == TRIAGE
                and s.text.startswith("I've asked Lee to look at INC-1")][0].startswith(
            "I've asked Lee to look at INC-1 (“VPN down”, led by Sam) again, and told Kim too")
        mark = len(desk.adapter.sent)
        due = (await desk.open_incident_promise()).due_at
        await desk.advance(due - desk.clock.now() + timedelta(minutes=1))  # the fourth: Lee alone
        escalated = [s.message.direct_to for s in desk.since(mark)
                     if s.text.startswith("Escalation: INC-1")]
        assert escalated == ["lee"]


async def test_with_no_leads_the_admins_and_the_lead_hear_once_that_nobody_was_asked(db_url):
    """H4: an incident's repeated miss with no lead to ask is said to the admins and to
    the incident lead once in the run of misses, with how to add a lead."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk, leads=())
        await desk.command("boss", "helpdesk show")  # the admin has written to the desk
        heard = await _lapse_twice(desk)
        to_boss = [s.text for s in heard if s.message.direct_to == "boss"]
        assert len(to_boss) == 1 and "INC-1" in to_boss[0], desk.adapter.transcript()
        assert "nobody was asked" in to_boss[0] and "/helpdesk leads add" in to_boss[0]
        to_sam = [s.text for s in heard if s.message.direct_to == "sam"
                  and "no other lead to ask" in s.text]
        assert len(to_sam) == 1 and "INC-1" in to_sam[0]
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=4))  # the third miss: nothing more of it
        assert not [s for s in desk.since(mark) if "no leads" in s.text]


async def test_a_next_counted_in_open_hours_is_said_to_the_agent(db_url):
    """M1: ``next 2h`` at 16:00 on a desk that closes at 17:00 is tomorrow at 10:00:
    the agent is told it was counted in the desk's open hours, as ``followup`` does."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.advance(timedelta(hours=6))  # 16:00
        await desk.command("sam", "incident update INC-1 Looking at it next 2h")
        answer = desk.private_to("sam")[-1].text
        assert answer.startswith("Sent the update on INC-1 to 3 people. The next one is "
                                 "promised by tomorrow at 10:00 UTC."), answer
        assert "Counted in the desk's open hours" in answer and "“2h”" in answer


async def test_a_next_that_cannot_be_kept_is_refused_and_nothing_is_sent(db_url):
    """M2: a past, zero, too long or unreadable time after ``next`` is refused with what
    was wrong, never broadcast as text beside a contradictory time."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        mark = len(desk.adapter.sent)
        for when, why in (("09:00", "has already passed"), ("0m", "no time at all"),
                          ("99999d", "too long"), ("yesterday", "couldn't read")):
            await desk.command("sam", f"incident update INC-1 Still on it next {when}")
            assert why in desk.private_to("sam")[-1].text, (when, desk.private_to("sam")[-1])
        assert not [s for s in desk.since(mark) if "Still on it" in s.text]
        await desk.command("sam", "incident update INC-1 Fixed by the next shift")
        assert "Fixed by the next shift" in desk.requester_thread(1)[-1].text


async def test_declaring_from_tickets_that_cannot_be_linked_declares_nothing(db_url):
    """M3: only closed tickets (or a number that isn't a ticket) refuse the whole
    declaration, with the reason, in an agent's words; nothing is announced."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident resolve INC-1 Back")
        await desk.press_button("ann", desk.requester_thread(1)[-1], "Yes, it's solved")
        assert (await desk.ticket(1)).status is TicketStatus.CLOSED
        mark = len(desk.adapter.sent)
        await desk.command("sam", "incident declare Closed from 1")
        answer = desk.private_to("sam")[-1].text
        assert answer.startswith("Nothing was declared"), answer
        assert "#1 resolved or closed already" in answer and "unlink" not in answer
        await desk.dm("dan", "The wifi is down")  # #4
        await desk.command("sam", "incident declare Wifi from 4, 77")
        answer = desk.private_to("sam")[-1].text
        assert answer.startswith("I can't find ticket #77") and "/ticket mine" not in answer
        assert not [s for s in desk.since(mark) if s.message.channel_id == STATUS]
        await desk.command("sam", "incident list")
        assert "INC-2" not in desk.private_to("sam")[-1].text


async def test_the_queue_shows_the_incidents_next_update_for_linked_tickets(db_url):
    """M4: a linked ticket's requester holds the incident's promise; the queue says so
    instead of "next: none"."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "ticket queue")
        queue = desk.private_to("sam")[-1].text
        assert "next: none" not in queue, queue
        assert "#1 P3 The VPN is down, I can't connect — Ann, next: INC-1 update by today " \
               "at 11:00 UTC" in queue


async def test_after_no_a_yes_is_refused_and_after_yes_a_no(db_url):
    """M5: the first answer to "Is this what you're seeing?" stands; a second one is
    answered as already given, never with a sentence that contradicts the first."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.dm("eve", "VPN asks for a new password")
        ack = desk.ack(4)
        await desk.press_button("eve", ack, "No, something else")
        await desk.press_button("eve", ack, "Yes")
        assert desk.private_to("eve")[-1].text == "You've already answered that one for #4."
        assert await desk.incident_of(4) is None
        await desk.dm("dan", "vpn not working for me either")
        ack = desk.ack(5)
        await desk.press_button("dan", ack, "Yes")
        mark = len(desk.adapter.sent)
        await desk.press_button("dan", ack, "No, something else")
        assert desk.private_to("dan")[-1].text == "You've already answered that one for #5."
        assert not [s for s in desk.since(mark) if "stays a ticket of its own" in s.text]
        assert await desk.incident_of(5) is not None


async def test_a_reopened_ticket_leaves_the_resolved_incident_and_has_its_own_card(db_url):
    """M7: reopening a ticket of a resolved incident (by command or by a reply in its
    thread) takes it out of the incident, and an anchor of the detected cluster gets its
    own card back, with its status and buttons."""
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        for person, text in zip("abcde", ["VPN is down", "my vpn keeps dropping",
                                          "VPN not connecting", "vpn down again",
                                          "cannot reach the VPN"]):
            await desk.dm(f"p{person}", text)
        cluster = desk.cards(1)[-1]
        await desk.press_button("sam", cluster, "Declare incident")
        await desk.command("sam", "incident resolve INC-1 Back")
        await desk.command("sam", "ticket reopen 1")
        await desk.requester_says("pb", 2, "still broken for me")
        assert (await desk.ticket(2)).status is not TicketStatus.RESOLVED
        for number in (1, 2):
            assert await desk.incident_of(number) is None, number
            card = desk.cards(number)[-1].message
            assert card.title.startswith(f"#{number}"), card
            assert "Incident" not in dict(card.fields)
            assert card.buttons
        await desk.command("sam", "incident show INC-1")
        assert "Tickets: #3, #4 and #5" in desk.private_to("sam")[-1].text


async def test_the_small_things_the_review_found(db_url):
    """L1, L5, L6, L12: no doubled punctuation after a quoted summary; ``declare from 1``
    has no title; ``INC-0`` is refused without naming an incident; an update too long
    for one message is refused with the limit, and nothing is sent."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident declare from 1")
        assert "I need a few words to name the incident" in desk.private_to("sam")[-1].text
        await desk.command("sam", "incident show INC-0")
        refused = desk.private_to("sam")[-1].text
        assert "“INC-0”" in refused and "INC-3" not in refused and "INC-1" not in refused
        mark = len(desk.adapter.sent)
        await desk.command("sam", "incident update INC-1 " + "x" * 5000)
        refused = desk.private_to("sam")[-1].text
        assert "at most 1,500 characters" in refused and "5,000" in refused, refused
        assert not [s for s in desk.since(mark) if "xxxx" in s.text]
        await desk.command("sam", "incident resolve INC-1 The gateway was restarted.")
        told = desk.requester_thread(1)[-1].text
        assert "“The gateway was restarted”. Has this" in told and ".”." not in told, told


async def test_a_chain_of_lapses_keeps_to_the_minute(db_url):
    """L2: each cover's new time is counted from the minute it happened, so the times
    said do not creep a minute later at every lapse."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=1, seconds=30))  # due 11:00, covered 11:00:30
        for _ in range(4):
            await desk.advance(timedelta(hours=1))  # each hour, half a minute past it
        said = [s.text for s in desk.since(mark) if s.message.channel_id == STATUS]
        times = [t.rsplit("by ", 1)[1] for t in said]
        assert len(times) >= 2 and all(t.endswith(":00 UTC.") for t in times), times


async def test_unlinking_from_a_resolved_incident_promises_nothing(db_url):
    """L4: a resolved ticket unlinked from a resolved incident has no "promised time
    again", and one ticket is not "each"."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident resolve INC-1 Back")
        await desk.command("sam", "incident unlink INC-1 3")
        assert desk.private_to("sam")[-1].text == (
            "Unlinked #3 from INC-1; it's resolved or closed already, so it has no "
            "promised time.")
        await desk.command("sam", "incident show INC-1")
        assert "Tickets: #1 and #2" in desk.private_to("sam")[-1].text


async def test_reports_in_a_paced_channel_wait_for_no_card_of_their_own(db_url):
    """In a storm the triage channel posts slowly; the reports asked about the incident
    queue no card there at all (the incident's card names them), and one whose
    requester says Yes is counted as linked."""
    from bot.core import Pacing
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        desk.adapter.pacing = Pacing(per_channel=1 / 60)  # one post a minute a channel
        await desk.dm("dan", "vpn not working for me either")
        await desk.dm("fay", "my vpn is down too")
        # Neither waits for a card of its own: the incident's card names both.
        assert not desk.cards(4) and not desk.cards(5)
        await desk.press_button("fay", desk.ack(5), "Yes")
        await desk.advance(timedelta(minutes=5))
        assert not desk.cards(5)
        assert "no answer yet (1): #4." in _incident_cards(desk)[-1].text
        await desk.command("sam", "incident show INC-1")
        assert "Tickets: #1, #2, #3 and #5" in desk.private_to("sam")[-1].text


async def test_repeated_misses_apologise_once_each_and_stretch_the_new_time(db_url):
    """L3: a lapsed incident update is covered with an apology each time, but the new
    time doubles with each miss in a row (up to a business day), and a repeat says it
    is another miss instead of the same hourly words."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("sam", "incident update INC-1 Looking into it next 30m")
        said = []
        for _ in range(3):
            mark = len(desk.adapter.sent)
            due = (await desk.open_incident_promise()).due_at
            await desk.advance(due - desk.clock.now() + timedelta(minutes=1))
            [apology] = [s.text for s in desk.since(mark)
                         if s.message.audience == "requester" and s.message.ticket_number == 1]
            said.append(apology)
        assert "haven't yet. Sorry about that. The team is still on it, and the next update " \
               "will be by today at 11:31 UTC." in said[0]
        assert "we've missed another update (it was due today at 11:31 UTC), and we're " \
               "sorry." in said[1]
        # Covered at 11:32: two hours on, not one.
        assert "the next update will be by today at 13:32 UTC, sooner if there's news." \
            in said[1]
        assert "(it was due today at 13:32 UTC)" in said[2]
        # Covered at 13:33: four business hours on, past the 17:00 closing.
        assert "the next update will be by tomorrow at 09:33 UTC" in said[2]


async def test_outside_the_desks_hours_nobody_is_said_to_be_working_on_it(db_url):
    """M1: declared in the evening, the requesters are told when the desk opens, not
    that "the team is working on it now"; a lapse at night says the same."""
    async with FlowDesk(db_url, start=MONDAY.replace(hour=18)) as desk:
        await _declared(desk)
        told = desk.requester_thread(1)[-1].text
        assert "working on it" not in told
        assert told.startswith("Your ticket #1 is part of a known problem, INC-1: “VPN down”. "
                               "Our desk is closed right now and opens tomorrow at 09:00 UTC;")
        await desk.command("sam", "incident update INC-1 Checking next 21:00")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=2, minutes=61))
        [apology] = [s.text for s in desk.since(mark)
                     if s.message.audience == "requester" and s.message.ticket_number == 1]
        assert "still on it" not in apology
        assert "Sorry about that. Our desk is closed right now and opens tomorrow at 09:00 " \
               "UTC; the next update will be by" in apology


async def test_a_requester_asking_incident_help_is_helped_not_refused(db_url):
    """L13: /incident help from someone who doesn't work the desk says what incidents
    mean for their ticket and where to follow them, and lists no agent command."""
    async with FlowDesk(db_url) as desk:
        await _declared(desk)
        await desk.command("ann", "incident help")
        answer = desk.private_to("ann")[-1].text
        assert answer.startswith("When one problem affects many people")
        assert "`/ticket show <n>` shows which incident" in answer
        assert f"Incidents are announced and updated in <#{STATUS}>." in answer
        assert "/incident declare" not in answer and "/incident update" not in answer
        await desk.command("sam", "incident help")
        assert desk.private_to("sam")[-1].text.startswith("Incident commands (agents):")


async def test_an_incident_led_by_the_lead_on_duty_escalates_to_another_lead(db_url):
    """The lead on duty leading the incident themself is never asked about it: the
    team's other lead is (this path once failed on a name it did not import)."""
    async with FlowDesk(db_url) as desk:
        await desk.staffed(leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it <@lee|Lee>")
        for person in PEOPLE:
            await desk.dm(person, "The VPN is down, I can't connect")
        await desk.command("lee", "incident declare VPN down from 1, 2 #3")
        heard = await _lapse_twice(desk)
        escalated = [s.message.direct_to for s in heard if s.text.startswith("Escalation: INC-1")]
        assert escalated == ["kim"], desk.adapter.transcript()


async def test_an_incident_led_by_its_teams_only_lead_tells_the_admins_not_another_team(
        db_url):
    """The incident's lead is its team's only lead: nobody else in the team to ask, so
    the admins hear, never another team's lead (a team's matters can be private)."""
    async with FlowDesk(db_url) as desk:
        await desk.staffed(leads=("lee",))
        for command in ("helpdesk team add hr", "helpdesk agents add <@hana|Hana> team hr",
                        "helpdesk leads add <@kim|Kim> team hr"):
            await desk.command("boss", command)
        await desk.command("boss", "helpdesk oncall it <@lee|Lee>")
        for person in PEOPLE:
            await desk.dm(person, "The VPN is down, I can't connect")
        await desk.command("lee", "incident declare VPN down from 1, 2 #3")
        heard = await _lapse_twice(desk)
        assert not [s for s in heard if s.message.direct_to == "kim"], \
            desk.adapter.transcript()
        to_boss = [s.text for s in heard if s.message.direct_to == "boss"]
        assert len(to_boss) == 1 and "INC-1" in to_boss[0] and "nobody was asked" in to_boss[0]
