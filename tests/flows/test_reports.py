"""Reports in chat, through the real console: after the service story a lead asks for
today's report and reads the ticket, its first response time, the promises and the
rating; an agent asks for their own figures; requesters and agents cannot read the
desk's report; a mistyped period or a missing name is answered with the usage."""

from __future__ import annotations

from tests.flows.test_console_story import STORY, assert_in_order, play


async def test_after_the_story_the_report_shows_the_ticket_times_promises_and_rating(
        sqlite_url):
    printed = await play(sqlite_url, STORY + "/as admin\n/helpdesk report today\n")
    report = printed[printed.rindex("Here's how the desk did today:"):]
    assert_in_order(report, [
        "Here's how the desk did today:",
        "• Tickets: 1 opened, 1 resolved, 1 closed, 1 reopened.",
        # Claimed in the minute it was opened (the console's clock stands still).
        "• First response: under a minute (1 ticket).",
        # Opened 10:00, resolved for good at 12:30 (the first resolve was reopened).
        "• Resolution: 2 hours 30 minutes of business time (1 ticket).",
        # The follow-up kept in time, the one the bot covered at 12:30, and the rest.
        "• Promises: 7 made; 6 kept on time, 1 covered on time by the bot's update, 0 late,"
        " 0 still open.",
        "• SLA targets met: P3 first response 1/1, resolution 1/1.",
        "• Satisfaction: 5.0/5 from 1 rating (100% of those asked).",
        "• Open now: none.",
        "• #1 “My VPN keeps dropping”: first response under a minute; 7 promises, 6 kept on"
        " time, 1 covered, 0 late, 0 open; rated 5/5.",
        "What moved since the day before: tickets opened 0 → 1.",
    ])
    assert "[only Morgan sees this] Help Desk:\n  Here's how the desk did today:" in printed


async def test_an_agent_reads_their_own_figures_and_a_leads_report_on_them(sqlite_url):
    printed = await play(sqlite_url, STORY + "/as agent Sam\n/ticket stats today\n"
                         "/as admin\n/helpdesk leads add Lee\n/as agent Lee\n"
                         "/helpdesk report 7d agent Sam\n/helpdesk report week agent Alex\n")
    assert "[only Sam sees this] Help Desk:\n  Here are your figures today:" in printed
    # Sam owns every promise but the first response, which the queue owned.
    assert "• Promises: 6 made; 5 kept on time, 1 covered on time" in printed
    assert "[only Lee sees this] Help Desk:\n  Here's how Sam did over the last 7 days:" \
        in printed
    assert "Alex hasn't looked after any tickets at the desk, so there are no agent figures" \
        in printed and "isn't an agent of the desk yet" not in printed


async def test_the_report_is_for_leads_and_says_how_to_ask(sqlite_url):
    printed = await play(sqlite_url, "Printer jam\n/helpdesk report\n/as agent Sam\n"
                         "/helpdesk report\n/as admin\n/helpdesk report fortnight\n"
                         "/helpdesk report today agent\n/helpdesk report\n")
    assert printed.count("Sorry, asking for the desk's report is for leads of the desk") == 2
    assert ("I don't know the period “fortnight”. Pick one of: today, 7d, 30d, week, month."
            in printed)
    assert "Who should the report be about? Name them after `agent`" in printed
    assert "Here's how the desk did over the last 7 days:" in printed
    assert "• Promises: 1 made; 0 kept on time, 0 covered on time by the bot's update, 0 late," \
        " 1 still open." in printed


async def test_an_agent_who_left_keeps_their_past_figures(sqlite_url):
    """Finding 7: the figures a lead most needs are those of someone who just left."""
    printed = await play(sqlite_url, STORY + "/as admin\n/helpdesk agents remove Sam\n"
                         "/helpdesk report 7d agent Sam\n")
    assert "Here's how Sam did over the last 7 days:" in printed
    assert "isn't an agent" not in printed and "• Promises: 6 made;" in printed


async def test_every_word_of_a_report_request_is_read_or_refused_by_name(sqlite_url):
    """Finding 10: extra words are not dropped in silence; a requester's refusal is
    English."""
    printed = await play(sqlite_url, STORY + "/as admin\n/helpdesk report 7d agent Sam, Alex\n"
                         "/helpdesk report week agent Sam extra words\n"
                         "/helpdesk report today team hr\n/helpdesk report today today\n"
                         "/as requester Alex\n/ticket stats\n/as agent Sam\n"
                         "/ticket stats agent Alex\n/ticket stats 7d please\n")
    assert "Here's how Sam did" not in printed
    assert "I didn't understand “Alex” after Sam" in printed
    assert "I didn't understand “extra words” after Sam" in printed
    assert "I didn't understand “team hr”: a report covers a period" in printed
    assert "I didn't understand “today”: a report covers a period" in printed
    assert "Who should the report be about?" not in printed
    assert "Sorry, seeing your own figures is for agents of the desk." in printed
    assert "`/ticket stats` shows your own figures." in printed
    assert "I didn't understand “please”" in printed


async def test_a_target_with_nothing_measured_is_not_shown_as_zero_of_zero(sqlite_url):
    """Finding 16: "resolution 0/0" where no ticket was resolved."""
    printed = await play(sqlite_url, "Printer jam\n/as agent Sam\n/ticket claim 1\n"
                         "/as admin\n/helpdesk report today\n")
    assert "• SLA targets met: P3 first response 1/1." in printed, printed
    assert "0/0" not in printed
