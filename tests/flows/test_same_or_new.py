"""A new DM from someone whose ticket is still open: "same issue, or something new?"

The desk never guesses: it holds the message and asks with two buttons. "Same issue"
adds the message to the open ticket; "Something new" opens a ticket for it in its own
thread. Whichever is pressed first wins; a second press changes nothing, and says where
the message went (issue 14: it used to be met with silence).
"""

from __future__ import annotations

import asyncio

from bot.core import ButtonPressed
from tests.flows.story import FlowDesk
from tests.support.harness import WORKSPACE


async def _asked(desk: FlowDesk):
    """Ann has #1 open and writes again: return the question the desk asked."""
    await desk.dm("ann", "The printer on floor 2 is jammed")
    held = await desk.dm("ann", "Also, my monitor flickers")
    question = desk.last()
    assert question.text == ("You already have #1 open (“The printer on floor 2 is jammed”). "
                             "Is this about the same thing, or something new?")
    assert question.message.thread_id == held.message_id and not question.message.ephemeral_to
    assert [b.label for b in question.message.buttons] == ["Same issue (#1)", "Something new"]
    assert await desk.ticket_count() == 1  # nothing is decided before the answer
    return question


async def test_same_issue_adds_the_message_to_the_open_ticket(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        question = await _asked(desk)
        await desk.press_button("ann", question, "Same issue (#1)")
        assert "Thanks, I've added that to #1." in [s.text for s in desk.requester_thread(1)]
        assert any(s.text == "Ann replied on #1: Also, my monitor flickers"
                   for s in desk.triage_thread(1))
        assert await desk.ticket_count() == 1
        assert [e.kind for e in await desk.timeline(1)][-2:] == ["held_answered", "requester"]
        # A second press of either button changes nothing, and says so.
        mark = len(desk.adapter.sent)
        await desk.press_button("ann", question, "Same issue (#1)")
        await desk.press_button("ann", question, "Something new")
        assert [s.text for s in desk.since(mark)] == [
            "You've already answered that one: that message is in #1."] * 2
        assert await desk.ticket_count() == 1


async def test_something_new_opens_a_ticket_in_the_held_messages_thread(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        question = await _asked(desk)
        await desk.press_button("ann", question, "Something new")
        ack = desk.ack(2)
        assert ack.text.startswith("Thanks, Ann. I've opened ticket #2 for you: "
                                   "“Also, my monitor flickers”.")
        assert ack.message.thread_id == question.message.thread_id
        assert (await desk.ticket(2)).first_message == "Also, my monitor flickers"
        assert "Also, my monitor flickers" not in [e.body for e in await desk.timeline(1)
                                                   if e.kind == "requester"]
        mark = len(desk.adapter.sent)
        await desk.press_button("ann", question, "Something new")
        await desk.press_button("ann", question, "Same issue (#1)")
        assert [s.text for s in desk.since(mark)] == [
            "You've already answered that one: that message became its own ticket, #2."] * 2
        assert await desk.ticket_count() == 2


async def test_only_the_requester_can_answer_the_question(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        question = await _asked(desk)
        mark = len(desk.adapter.sent)
        await desk.press_button("bob", question, "Something new")
        await desk.press_button("sam", question, "Same issue (#1)")
        assert await desk.ticket_count() == 1
        assert not any(s.message.audience == "requester" for s in desk.since(mark))
        refusal = "That question is for the person whose message it's about, so nothing changed."
        assert [(s.text, s.message.ephemeral_to) for s in desk.since(mark)] == [
            (refusal, "bob"), (refusal, "sam")]
        # Ann can still answer.
        await desk.press_button("ann", question, "Something new")
        assert await desk.ticket_count() == 2


async def test_once_the_ticket_is_closed_a_new_message_simply_opens_a_new_ticket(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The printer is jammed")
        await desk.command("sam", "ticket resolve 1 Cleared the jam")
        await desk.press("ann", "resolution.yes", str((await desk.ticket(1)).id))
        await desk.dm("ann", "Now the scanner is broken")
        assert desk.ack(2).message.channel_id == "D-ann"
        assert not any("You already have" in t for t in desk.texts())


async def test_agents_see_a_held_message_until_the_requester_answers(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        question = await _asked(desk)
        await desk.command("sam", "ticket show 1")
        held = ("Ann wrote “Also, my monitor flickers” and hasn't yet said whether it's "
                "about this ticket or something new")
        assert held in desk.last().text
        await desk.press_button("ann", question, "Same issue (#1)")
        await desk.command("sam", "ticket show 1")
        shown = desk.last().text
        assert "Ann wrote: “Also, my monitor flickers”" in shown and held not in shown
        await desk.command("ann", "ticket show 1")
        assert "hasn't yet said" not in desk.last().text  # the requester's view is unchanged


async def test_a_double_press_at_the_same_moment_opens_one_ticket(db_url):
    # Issue 18: the presses each read "not answered yet" and then wrote, so on
    # PostgreSQL two presses at once opened two tickets (SQLite's single writer hid it).
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        question = await _asked(desk)
        new = desk.buttons(question)["Something new"]
        same = desk.buttons(question)["Same issue (#1)"]
        mark = len(desk.adapter.sent)
        presses = [ButtonPressed(platform=desk.platform, workspace_id=WORKSPACE,
                                 event_id=desk.next_id("btn"), actor=desk.actor("ann"),
                                 channel_id=question.message.channel_id, action=button.action,
                                 value=button.value, form={})
                   for button in (new, new, same, new)]
        await asyncio.gather(*(desk.router(press) for press in presses))
        await desk.settle()
        assert await desk.ticket_count() == 2
        answered = [e for e in await desk.timeline(1) if e.kind == "held_answered"]
        assert len(answered) == 1
        already = [s.text for s in desk.since(mark) if s.text.startswith("You've already")]
        assert len(already) == 3
