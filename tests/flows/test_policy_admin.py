"""An admin shapes the desk's promises: business hours, holidays and SLA targets.

Each change is confirmed in plain words and applies to the next ticket's promised time;
promises already made keep the times the desk stated. Bad input gets a specific answer
with the usage, and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from tests.flows.story import MONDAY, FlowDesk
from tests.support.harness import WORKSPACE


async def _settings(desk: FlowDesk) -> dict:
    """The workspace's stored policy settings."""
    async with desk.db.unit_of_work() as uow:
        return (await uow.workspaces.ensure(desk.platform, WORKSPACE, WORKSPACE,
                                            desk.clock.now())).settings


async def test_new_hours_and_time_zone_change_the_next_promise(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Before the change")
        await desk.command("boss", "helpdesk hours mon-fri 08:00-16:00 Europe/London")
        assert desk.last().text == "Done: the desk is open Mon-Fri 08:00-16:00 (Europe/London)."
        await desk.dm("bob", "After the change")
        # 11:00 in London: 5 business hours today, 3 tomorrow, written in London time.
        assert "will reply by tomorrow at 11:00 BST (within 8 business hours)" in desk.ack(2).text
        await desk.advance(timedelta(hours=5, minutes=30))  # 16:30 in London: closed
        await desk.dm("cat", "Late in the day")
        assert ("The desk is closed right now and opens tomorrow at 08:00 BST; someone will "
                "reply by tomorrow at 16:00 BST.") in desk.ack(3).text
        # The promise already made keeps its time.
        [first] = await desk.promises(1)
        assert first.due_at == MONDAY + timedelta(days=1)
        await desk.command("boss", "helpdesk show")
        assert "• Hours: Mon-Fri 08:00-16:00 (Europe/London)" in desk.last().text


async def test_a_holiday_moves_the_next_promise_past_it(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Before the holiday is set")
        await desk.command("boss", "helpdesk holiday add 2030-06-04")
        assert desk.last().text == "Done: 2030-06-04 is a holiday; SLA clocks won't run that day."
        await desk.dm("bob", "After the holiday is set")
        assert "will reply by Wednesday at 10:00 UTC (within 8 business hours)" in desk.ack(2).text
        [first] = await desk.promises(1)
        assert first.due_at == MONDAY + timedelta(days=1)  # Tuesday, as Ann was told


async def test_a_holiday_added_by_mistake_can_be_removed(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        before = await _settings(desk)
        await desk.command("boss", "helpdesk holiday add 2030-06-04")
        await desk.command("boss", "helpdesk holiday add 2030-06-04")
        assert desk.last().text == "2030-06-04 is already a holiday; nothing changed."
        await desk.command("boss", "helpdesk holiday remove 2030-06-04")
        assert desk.last().text == ("Done: 2030-06-04 is no longer a holiday; SLA clocks run "
                                    "that day as usual.")
        await desk.command("boss", "helpdesk holiday remove 2030-06-04")
        assert desk.last().text == ("2030-06-04 isn't one of the desk's holidays, so there was "
                                    "nothing to remove. `/helpdesk show` lists them.")
        assert (await _settings(desk)).get("calendar", {}).get("holidays", []) == \
            before.get("calendar", {}).get("holidays", [])
        await desk.dm("bob", "After the holiday is gone")
        assert "will reply by tomorrow at 10:00 UTC (within 8 business hours)" in desk.ack(1).text
        await desk.command("boss", "helpdesk help")
        assert "`/helpdesk holiday add|remove <date>`" in desk.last().text


async def test_a_holiday_in_the_past_is_refused_and_a_past_one_can_still_go(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:  # Monday 2030-06-03
        await desk.staffed()
        before = await _settings(desk)
        await desk.command("boss", "helpdesk holiday add 2030-06-02")
        assert desk.last().text == (
            "2030-06-02 has already passed (today is 2030-06-03), so a holiday then would "
            "change nothing; nothing was added. Did you mean 2031-06-02?")
        assert await _settings(desk) == before
        await desk.command("boss", "helpdesk holiday add 2030-06-03")  # today still counts
        assert desk.last().text.startswith("Done: 2030-06-03 is a holiday")
        await desk.advance(timedelta(days=2))
        await desk.command("boss", "helpdesk holiday remove 2030-06-03")
        assert desk.last().text == ("Done: 2030-06-03 is no longer a holiday. That day has "
                                    "already passed, so no promise changes.")


async def test_a_new_sla_target_changes_the_next_promise(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk sla P3 first=2h")
        assert desk.last().text == (
            "Done: P3 targets are now first reply within 2 business hours, updates every 8 "
            "business hours (1 working day of 8 hours), resolved within 48 business hours "
            "(6 working days of 8 hours).")
        await desk.dm("ann", "The VPN drops")
        assert "will reply by today at 12:00 UTC (within 2 business hours)" in desk.ack(1).text
        [promise] = await desk.promises(1)
        assert promise.due_at == MONDAY + timedelta(hours=2)


async def test_sla_targets_must_grow_from_first_reply_to_resolution(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk sla P3 first=10h")
        assert desk.last().text.startswith(
            "The first reply (10 business hours) can't come later than the update interval "
            "(8 business hours).")
        await desk.command("boss", "helpdesk sla P3 update=3d")
        assert desk.last().text.startswith(
            "The update interval (72 business hours) can't be longer than the resolution "
            "target (48 business hours).")
        await desk.command("boss", "helpdesk show")
        assert "P3: first reply within 8 business hours (1 working day of 8 hours)" \
            in desk.last().text  # nothing was changed


BAD_POLICY_INPUT = [
    ("helpdesk hours", "I need the days, the hours and the time zone. Usage: "),
    ("helpdesk hours mon-fri 9-17", "I need the days, the hours and the time zone. Usage: "),
    ("helpdesk hours someday 9-17 UTC", ("“someday” isn't a day I know: use mon, tue, wed, "
                                         "thu, fri, sat or sun.")),
    ("helpdesk hours mon-fri 17-9 UTC", ("The opening time (17:00) must be before the closing "
                                         "time (09:00).")),
    ("helpdesk holiday add", ("I need a date like 2026-12-25. Usage: `/helpdesk holiday "
                              "add|remove <YYYY-MM-DD> [team <name>]`")),
    ("helpdesk holiday add next friday", ("I couldn't read “next friday” as a date: write it "
                                          "like 2026-12-25.")),
    ("helpdesk holiday add 2031-02-30", ("“2031-02-30” isn't a date on the calendar: that "
                                         "month has 28 days.")),
    ("helpdesk holiday remove 2032-02-30", ("“2032-02-30” isn't a date on the calendar: that "
                                            "month has 29 days.")),
    ("helpdesk holiday add 2031-13-01", ("“2031-13-01” isn't a date on the calendar: there is "
                                         "no month 13.")),
    ("helpdesk holiday add 2031-04-31", "“2031-04-31” isn't a date on the calendar"),
    ("helpdesk holiday remove", "I need a date like 2026-12-25."),
    ("helpdesk holiday delete 2030-06-04", "I need add or remove, then a date."),
    ("helpdesk holiday 2030-06-04", "I need add or remove, then a date."),
    ("helpdesk sla", "I need a priority and at least one of first=, update=, resolve=."),
    ("helpdesk sla P3", "I need a priority and at least one of first=, update=, resolve=."),
    ("helpdesk sla P3 speed=fast", ("I need a priority and at least one of first=, update=, "
                                    "resolve=.")),
    ("helpdesk sla P3 2h", "I need a priority and at least one of first=, update=, resolve=."),
    ("helpdesk sla P3 first=soon", ("I couldn't read “soon” as a duration. Write it like 45m, "
                                    "2h, 1h30m, 1.5h or 3d.")),
    ("helpdesk sla P3 first=90", "“90” needs a unit: 90m for minutes or 90h for hours."),
    ("helpdesk sla P9 first=2h", "“P9” isn't a priority I know"),
]


async def test_bad_policy_input_gets_a_specific_answer_and_changes_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        before = await _settings(desk)
        for line, answer in BAD_POLICY_INPUT:
            mark = len(desk.adapter.sent)
            await desk.command("boss", line)
            [reply] = desk.since(mark)
            assert reply.message.ephemeral_to == "boss"
            assert reply.text.startswith(answer) and "Usage: `/helpdesk " in reply.text, line
        assert await _settings(desk) == before


async def test_an_unknown_time_zone_gets_advice_that_works(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk hours mon-fri 9-17 Mars/Olympus")
        assert desk.last().text.startswith("“Mars/Olympus” isn't a time zone I know: use a "
                                           "name like Europe/London or America/New_York.")


async def test_removing_an_agent_hands_their_tickets_back_and_says_which(sqlite_url):
    """Someone taken off the desk can act on no ticket, so owns none (RECHECK-20 N1)."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        await desk.command("sam", "ticket claim 1")
        mark = len(desk.adapter.sent)
        await desk.command("boss", "helpdesk agents remove sam")
        answer = desk.private_to("boss")[-1].text
        assert answer.startswith("Done: Sam can no longer work the desk as an agent.")
        assert "Sam no longer owns #1: it waits for someone to claim it" in answer, answer
        assert (await desk.ticket(1)).owner_id is None
        assert desk.requester_said(mark) == [
            "A change on #1: Sam is no longer looking after it, so someone else at the desk "
            "will pick it up. You don't need to do anything."]
