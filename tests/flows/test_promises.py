"""No promise passes silently.

Every time the desk states a time it is a promise. A person keeps it by acting in time;
otherwise, at the due time, the bot posts an honest update itself, apologises, gives a
new time, reminds the owner, and escalates a repeated miss. Owners are warned before a
breach, long silences get a "still on it", and the desk can report how it kept its word.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core import DeliveryError
from bot.domain.promises import PromiseKind, PromiseStatus
from tests.flows.story import FlowDesk


async def test_a_follow_up_kept_in_time_needs_no_word_from_the_bot(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 2h checking the logs")
        assert desk.requester_thread(1)[-1].text == \
            "Sam will update you on #1 by today at 12:00 UTC.\nSam: checking the logs"
        assert desk.private_to("sam")[-1].text == (
            "Noted: you'll update Ann on #1 by today at 12:00 UTC. If you can't, I'll tell them "
            "myself and give a new time.")
        await desk.advance(timedelta(hours=1))
        await desk.command("sam", "ticket reply 1 The logs show a DNS timeout; fixing it now")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=2))
        assert desk.requester_said(mark) == []
        [follow_up] = [p for p in await desk.promises(1) if p.kind is PromiseKind.FOLLOW_UP]
        assert follow_up.status is PromiseStatus.KEPT


async def test_a_missed_follow_up_is_covered_by_the_bot_with_a_new_time(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 2h")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=2))
        assert desk.requester_said(mark) == [
            ("An update on #1: we said we'd update you by today at 12:00 UTC and haven't yet. "
             "Sorry about that. You'll get an update by tomorrow at "
             "12:00 UTC.")]
        assert desk.private_to("sam")[-1].text == (
            "Reminder: #1 for Ann had a promised follow-up due today at 12:00 UTC, and it passed "
            "without one. I've told them they'll hear from you by tomorrow at 12:00 UTC; please "
            "reply in their thread before then.")
        # The new time is itself a promise.
        open_kinds = [(p.kind, p.due_at) for p in await desk.open_promises(1)]
        assert (PromiseKind.FOLLOW_UP, desk.clock.now() + timedelta(days=1)) in open_kinds


async def test_a_cover_delivered_late_owns_its_lateness(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 2h")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=3))  # the bot was down at the due time
        [update] = desk.requester_said(mark)
        assert update.startswith("Sorry, this update on #1 is late: we said we'd update you "
                                 "by today at 12:00 UTC, and we missed it.")


async def test_a_second_miss_in_a_row_escalates_to_the_leads(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(leads=("lee",))
        await desk.command("sam", "ticket followup 1 2h")
        await desk.advance(timedelta(hours=2))
        assert desk.private_to("lee") == []  # one miss is a reminder, not an escalation
        await desk.advance(timedelta(days=1))
        [escalation] = desk.private_to("lee")
        assert escalation.text == (
            "Escalation: #1 from Ann has missed its promised follow-up 2 times in a row "
            "(priority P3, owner Sam). Last due today at 12:00 UTC; next promised tomorrow at "
            "12:00 UTC.")
        assert "escalated" in [e.kind for e in await desk.timeline(1)]


async def test_a_p1_escalates_on_its_first_miss(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "The whole office is offline")
        await desk.command("sam", "ticket priority 1 P1")
        await desk.advance(timedelta(hours=1))
        assert desk.requester_thread(1)[-1].text.startswith(
            "An update on #1: we said someone would reply by today at 11:00 UTC, and nobody "
            "has yet. Sorry about that.")
        [escalation] = desk.private_to("lee")
        assert "missed its first response once (priority P1" in escalation.text


async def test_a_long_silence_gets_a_still_on_it_update(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(days=1))  # P3 updates every 8 business hours
        assert desk.requester_said(mark) == [
            ("A quick update on #1: there's no news yet, and it's still with Sam. The next update will be by "
             "tomorrow at 10:00 UTC.")]


async def test_the_owner_is_warned_before_a_breach(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.advance(timedelta(hours=5))
        assert len(desk.private_to("sam")) == 1  # only the claim confirmation so far
        await desk.advance(timedelta(hours=1))  # 6 of the 8 business hours: 75%
        assert desk.private_to("sam")[-1].text == (
            "Heads-up: #1 for Ann has a status update due tomorrow at 10:00 UTC. Reply in their "
            "thread before then to keep that promise.")
        await desk.advance(timedelta(hours=1))
        assert len(desk.private_to("sam")) == 2  # each warning once


async def test_an_unclaimed_ticket_warns_the_triage_channel(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        await desk.advance(timedelta(hours=6))
        assert desk.triage_thread(1)[-1].text == (
            "Heads-up: #1 for Ann has a first response due tomorrow at 10:00 UTC. Reply in their "
            "thread before then to keep that promise.")


async def test_waiting_on_a_third_party_replaces_an_outstanding_follow_up(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 1h")
        await desk.advance(timedelta(hours=1))  # missed; the bot promises a new time
        await desk.command("sam", "ticket wait 1 third-party Cisco support")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(days=1))
        assert len(desk.requester_said(mark)) == 1, desk.requester_said(mark)


async def test_the_promise_report_counts_kept_and_covered_promises(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk promises")
        assert desk.last().text == "No promises yet: the desk hasn't stated any times."
        await desk.claimed()  # the first response is kept by the claim
        await desk.advance(timedelta(days=1))  # the status update is covered by the bot
        await desk.command("boss", "helpdesk promises")
        lines = desk.last().text.splitlines()
        assert lines[0] == "How the desk has kept its word:"
        # First response (kept), status update (missed, covered by the bot), its successor
        # and the resolution target (both still open). A miss the bot covered is still a
        # miss: the person did not keep their word.
        assert lines[-1] == ("• Whole desk: 4 promised — 1 kept on time, 0 kept late, 1 missed "
                             "(1 covered on time by the bot, 0 undelivered), 2 still open "
                             "(50% on time)")


async def test_a_report_with_nothing_settled_says_so_in_words(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")  # one promise made, none settled
        await desk.command("boss", "helpdesk promises")
        text = desk.last().text
        assert "n/a" not in text
        assert text.splitlines()[-1] == (
            "• Whole desk: 1 promised — 0 kept on time, 0 kept late, 0 missed (0 covered on "
            "time by the bot, 0 undelivered), 1 still open (none kept or missed yet)")


async def test_a_miss_counts_against_its_owner_at_once(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 1h")
        # The bot's update cannot go out yet: the miss is a miss all the same.
        desk.adapter.failures.append(DeliveryError("ratelimited", retry_after=600))
        await desk.advance(timedelta(hours=1))
        await desk.command("boss", "helpdesk promises")
        [sam] = [line for line in desk.last().text.splitlines() if line.startswith("• Sam")]
        assert sam == ("• Sam: 3 promised — 0 kept on time, 0 kept late, 1 missed (0 covered "
                       "on time by the bot, 0 undelivered), 2 still open (0% on time)")


async def test_when_the_bot_cannot_deliver_the_admins_hear_about_it(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        desk.adapter.failures.append(DeliveryError("channel_not_found", permanent=True))
        await desk.dm("ann", "The VPN drops")
        [alert] = desk.private_to("boss")
        assert alert.text.startswith("I couldn't deliver a message about #1 to <#D-ann>")
        assert "channel_not_found" in alert.text
