"""What the desk says on Slack: relays, promise-driven posts, rate limits, pacing,
idempotent re-attempts and failures that no retry can fix."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from bot.platforms.slack.adapter import SlackAdapter
from bot.storage.tables import OutboxRow, PromiseRow
from tests.support.outbox import next_due_at
from tests.support.slack import events as payloads
from tests.support.slack.desk import INTAKE, TRIAGE, slack  # noqa: F401


def card(desk) -> dict:
    [found] = desk.fake.bot_messages(TRIAGE, top_level=True)
    return found


def texts(desk, channel: str, thread_ts: str | None = None) -> list[str]:
    return [m["text"] for m in desk.fake.bot_messages(channel, thread_ts)]


async def outbox(desk) -> list[OutboxRow]:
    async with desk.db.unit_of_work() as uow:
        return list((await uow.session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())


async def test_agents_reply_in_the_card_thread_and_notes_stay_internal(slack):
    message = await slack.dm("UREQ", "Cannot print")
    posted = card(slack)
    await slack.say("UAGENT", TRIAGE, "note: probably the driver", thread_ts=posted["ts"])
    await slack.say("UAGENT", TRIAGE, "Please try printer P2 for now", thread_ts=posted["ts"])
    requester_thread = texts(slack, "DUREQ", message["ts"])
    assert any(t.startswith("Sam: Please try printer P2 for now") for t in requester_thread)
    assert not any("driver" in t for t in requester_thread)


async def test_a_lapsed_promise_is_covered_by_a_post_in_the_requesters_thread(slack):
    message = await slack.dm("UREQ", "Email bounces")
    async with slack.db.unit_of_work() as uow:
        await uow.session.execute(update(PromiseRow).values(
            due_at=slack.clock.now() - timedelta(minutes=1),
            warn_at=slack.clock.now() - timedelta(minutes=2)))
    await slack.settle()
    thread = texts(slack, "DUREQ", message["ts"])
    assert any("An update on #1: we said someone would reply by" in t for t in thread)
    assert any("had no first response" in t for t in texts(slack, TRIAGE, card(slack)["ts"]))


async def test_an_escalation_reaches_the_leads_by_direct_message(slack):
    await slack.command("UADMIN", "/helpdesk leads add <@UBOB|bob>")
    await slack.dm("UREQ", "Payroll system down")
    await slack.command("UAGENT", "/ticket escalate 1 whole team blocked", channel=TRIAGE)
    assert "UBOB" in [c.args["users"] for c in slack.fake.calls_to("conversations.open")]
    assert any("Sam escalated #1 from Alex" in t for t in texts(slack, "DUBOB"))


async def test_a_429_is_rescheduled_at_retry_after_without_spending_an_attempt(slack):
    slack.fake.throttle("chat.postMessage", 7)
    await slack.dm("UREQ", "Zoom has no sound")
    assert texts(slack, "DUREQ") == []
    ack = (await outbox(slack))[-2]  # the acknowledgement, before the card
    assert (ack.status, ack.attempts) == ("pending", 0)
    assert timedelta(seconds=6) < ack.due_at - slack.clock.now() <= timedelta(seconds=7)
    assert "rate limited for 7 s" in ack.last_error
    slack.clock.advance(timedelta(seconds=7))
    await slack.settle()
    assert len([t for t in texts(slack, "DUREQ") if "opened ticket #1" in t]) == 1


async def test_after_a_429_the_method_waits_for_every_row(slack):
    for text in ("one", "two"):
        await slack.dm("UREQ" if text == "one" else "UBOB", f"Problem {text}")
    slack.fake.throttle("chat.update", 30)
    await slack.command("UAGENT", "/ticket claim 1", channel=TRIAGE)
    await slack.command("UAGENT", "/ticket claim 2", channel=TRIAGE)
    assert len(slack.fake.calls_to("chat.update")) == 1  # the 429; the other row waited
    waiting = [r for r in await outbox(slack) if r.kind == "card" and r.status == "pending"]
    assert len(waiting) == 2
    # (settling moved the clock over a pacing gap or two since the 429)
    assert all(timedelta(seconds=25) < r.due_at - slack.clock.now() <= timedelta(seconds=30)
               for r in waiting)


async def test_posts_to_one_channel_are_paced_about_a_second_apart(slack):
    assert SlackAdapter.pacing.per_channel == 1.0
    slack.clock.advance(timedelta(seconds=2))  # past the fixture's own posts there
    for user in ("UREQ", "UBOB"):
        message = slack.fake.add_message(INTAKE, user, f"{user} needs help")
        await slack.sender.event(payloads.event_callback(payloads.message_event(message),
                                                         team=slack.team))
    await slack.adapter.idle()
    await slack.dispatcher.drain()
    assert len([t for t in texts(slack, INTAKE) if "opened ticket" in t]) == 1
    gap = await next_due_at(slack.db, ["slack"]) - slack.clock.now()
    assert timedelta(seconds=0) < gap <= timedelta(seconds=1)
    await slack.settle()
    assert len([t for t in texts(slack, INTAKE) if "opened ticket" in t]) == 2


async def test_a_re_attempt_finds_its_earlier_post_instead_of_posting_twice(slack):
    # Stored by Slack, answer lost (only for the DM: the triage card goes out at once).
    slack.fake.lose_response("chat.postMessage", channel="DUREQ")
    message = await slack.dm("UREQ", "Teams keeps logging me out")
    acks = [m for m in slack.fake.bot_messages("DUREQ", message["ts"])]
    assert len(acks) == 1
    lookup = slack.fake.calls_to("conversations.replies")[-1].args
    assert (lookup["ts"], lookup["include_all_metadata"]) == (message["ts"], "1")
    row = next(r for r in await outbox(slack) if r.result_message_id == acks[0]["ts"])
    assert (row.status, row.attempts) == ("sent", 2)


async def test_a_re_attempt_in_a_busy_thread_pages_back_to_its_first_attempt(slack):
    # Issue 18: the look-up read three pages from six hours back, so in a thread with
    # more than 45 messages since then the earlier post was not found and went twice.
    message = await slack.dm("UREQ", "Laptop will not charge")
    for n in range(60):
        slack.fake.add_message("DUREQ", "UREQ", f"still nothing {n}", thread_ts=message["ts"])
    slack.fake.lose_response("chat.postMessage", channel="DUREQ")
    await slack.say("UAGENT", TRIAGE, "Please try another socket", thread_ts=card(slack)["ts"])
    relayed = [t for t in texts(slack, "DUREQ", message["ts"]) if "another socket" in t]
    assert len(relayed) == 1
    lookups = slack.fake.calls_to("conversations.replies")
    assert len(lookups) >= 5  # it paged on past the old three-page limit
    # It looks back to the row's first attempt (a minute's margin for clocks), not 6 h.
    assert float(lookups[-1].args["oldest"]) > time.time() - 600


async def test_a_top_level_re_attempt_looks_in_the_channel_history(slack):
    slack.fake.lose_response("chat.postMessage", channel="DUREQ")
    await slack.command("UREQ", "/ticket new Badge reader broken")
    assert len([t for t in texts(slack, "DUREQ") if "opened ticket #1" in t]) == 1
    assert slack.fake.calls_to("conversations.history")[-1].args["include_all_metadata"] == "1"


async def test_a_channel_the_bot_cannot_use_makes_the_row_dead_and_tells_an_admin(slack):
    slack.fake.forbid(TRIAGE, "channel_not_found")
    await slack.dm("UREQ", "VPN token expired")
    [dead] = [r for r in await outbox(slack) if r.status == "dead"]
    assert (dead.kind, dead.attempts) == ("card", 1)
    assert any("I couldn't deliver a message about #1 to <#CTRIAGE>" in t
               for t in texts(slack, "DUBOSS"))
