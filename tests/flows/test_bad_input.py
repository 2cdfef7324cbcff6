"""Bad input to every command gets a polite, specific answer, and changes nothing.

Unknown ticket numbers, missing arguments, unknown words and text full of Slack or
Discord markup: each answer is private, says what was wrong and how to write it, and
the ticket is exactly as it was. Enormous messages are taken whole and answered briefly.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.flows.story import FlowDesk

UNKNOWN = "I can't find ticket #99. `/ticket mine` lists your tickets."
TICKET_COMMANDS = {
    "claim": "Usage: `/ticket claim <n>`",
    "assign": "Usage: `/ticket assign <n> <person>`",
    "reply": "Usage: `/ticket reply <n> <text>`",
    "note": "Usage: `/ticket note <n> <text>`",
    "followup": "Usage: `/ticket followup <n> <when> [text]`, e.g. `/ticket followup 4 2h`.",
    "priority": "Usage: `/ticket priority <n> <P1-P4>` or `/ticket priority <n> <impact> "
                "<urgency>` (high, medium or low).",
    "wait": "Usage: `/ticket wait <n> requester|third-party [text]`",
    "escalate": "Usage: `/ticket escalate <n> [reason]`",
    "resolve": "Usage: `/ticket resolve <n> [summary]`",
    "reopen": "Usage: `/ticket reopen <n>`",
    "show": "Usage: `/ticket show <n>`",
}
# Arguments that would be right for ticket #1, so only the number is wrong.
GOOD_ARGS = {"assign": "<@sam|Sam>", "reply": "hello", "note": "hello", "followup": "2h",
             "priority": "P2", "wait": "requester"}


@pytest.fixture
async def desk(sqlite_url):
    """A staffed desk where Ann has ticket #1 open."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        yield desk


async def _ticket_state(desk: FlowDesk) -> tuple:
    """Ticket #1, its timeline and its promises: what a refused command must not change."""
    return await desk.ticket(1), await desk.timeline(1), await desk.promises(1)


async def _answer(desk: FlowDesk, user: str, line: str, *, check: bool = True) -> str:
    """Run ``line`` as ``user``; assert the one answer is private and (with ``check``)
    that ticket #1 is unchanged."""
    before = await _ticket_state(desk) if check else None
    mark = len(desk.adapter.sent)
    await desk.command(user, line)
    [answer] = desk.since(mark)
    assert answer.message.ephemeral_to == user, answer
    if check:
        assert await _ticket_state(desk) == before
    return answer.text


async def test_an_unknown_ticket_number_is_named_in_every_command(desk):
    before = await _ticket_state(desk)
    for word in TICKET_COMMANDS:
        line = f"ticket {word} 99 {GOOD_ARGS.get(word, '')}".strip()
        assert await _answer(desk, "sam", line, check=False) == UNKNOWN, line
    assert await _ticket_state(desk) == before


async def test_a_missing_or_unreadable_ticket_number_gets_the_usage(desk):
    before = await _ticket_state(desk)
    for word, usage in TICKET_COMMANDS.items():
        for args in ("", "abc", "<@U123>", "<#C123|general>"):
            text = await _answer(desk, "sam", f"ticket {word} {args}".strip(), check=False)
            assert text == f"I need a ticket number. {usage}", (word, args)
    assert await _ticket_state(desk) == before


WRONG_ARGUMENTS = [
    ("ticket assign 1", "I need the person to give it to. Usage: `/ticket assign <n> <person>`"),
    ("ticket assign 1 <@zed|Zed>", ("Zed isn't an agent of the desk yet. An admin can add them "
                                    "with `/helpdesk agents add`.")),
    ("ticket reply 1", "I need the text of the reply. Usage: `/ticket reply <n> <text>`"),
    ("ticket note 1", "I need the text of the note. Usage: `/ticket note <n> <text>`"),
    ("ticket followup 1", "I need a time. Usage: `/ticket followup <n> <when> [text]`"),
    ("ticket followup 1 whenever", ("I couldn't read “whenever” as a time. Write a duration "
                                    "like 45m, 2h or 3d, or a time like 15:00, 3pm or tomorrow "
                                    "9am.")),
    ("ticket followup 1 8am", "8am has already passed; did you mean tomorrow 8am?"),
    ("ticket wait 1", "Wait on whom? Usage: `/ticket wait <n> requester|third-party [text]`"),
    ("ticket wait 1 godot", "Wait on whom?"),
    ("ticket reopen 1", "#1 is open, not claimed yet, so it can't be reopened right now."),
]


async def test_missing_or_wrong_arguments_get_a_specific_answer(desk):
    for line, expected in WRONG_ARGUMENTS:
        assert (await _answer(desk, "sam", line)).startswith(expected), line


UNKNOWN_WORDS = [
    ("ann", "ticket frobnicate 3", ("I don't know “/ticket frobnicate”. Try `/ticket help` to "
                                    "see what I can do.")),
    ("boss", "helpdesk frobnicate", ("I don't know “/helpdesk frobnicate”. Try `/helpdesk "
                                     "help` to see what I can do.")),
    # A near miss is named; only a command the person may use is offered.
    ("boss", "helpdesk agnets add sam", ("I don't know “/helpdesk agnets”. Did you mean "
                                         "`/helpdesk agents`? `/helpdesk help` lists the rest.")),
    ("sam", "ticket calim 1", ("I don't know “/ticket calim”. Did you mean `/ticket claim`? "
                               "`/ticket help` lists the rest.")),
    ("ann", "ticket mien", ("I don't know “/ticket mien”. Did you mean `/ticket mine`? "
                            "`/ticket help` lists the rest.")),
    ("ann", "ticket calim 1", ("I don't know “/ticket calim”. Try `/ticket help` to see what I "
                               "can do.")),
    ("ann", "helpdesk agnets add sam", ("I don't know “/helpdesk agnets”. Try `/helpdesk help` "
                                        "to see what I can do.")),
    ("ann", "kb frobnicate", "I don't know “/kb frobnicate”. Try `/ticket help` to see what I can do."),
    ("ann", "ticket new", "I need a few words about the problem. Usage: `/ticket new <text>`"),
    ("ann", "ticket new    ", "I need a few words about the problem."),
]


async def test_unknown_words_and_empty_commands_are_answered_politely(desk):
    for user, line, expected in UNKNOWN_WORDS:
        assert (await _answer(desk, user, line)).startswith(expected), line


@pytest.mark.parametrize("how", ["dm", "command"])
async def test_a_20000_character_message_is_taken_whole_and_answered_briefly(desk, how):
    """The desk has no length limit (it was dropped upstream): the ticket keeps every
    character, the acknowledgement quotes a one-line subject, the card a marked excerpt."""
    text = "My laptop says: " + "error " * 3340
    assert len(text) > 20_000
    mark = len(desk.adapter.sent)
    if how == "dm":
        await desk.dm("zed", text)
    else:
        await desk.command("zed", f"ticket new {text}")
    ack, card = desk.since(mark)
    assert ack.text.startswith("Thanks, Zed. I've opened ticket #2 for you: “My laptop says: "
                               "error error")
    assert "…”." in ack.text and len(ack.text) < 400
    assert len(card.text) == 2500 and card.text.endswith("…")
    assert (await desk.ticket(2)).first_message.strip() == text.strip()


async def test_a_20000_character_reply_reaches_the_requester_whole(desk):
    # Nothing cut off: the adapters split it into messages their platform takes.
    await desk.command("sam", "ticket reply 1 " + "Step. " * 3400)
    relayed = desk.requester_thread(1)[-1].text
    assert relayed.startswith("Sam: Step. Step.") and "…" not in relayed
    assert relayed.count("Step.") == 3400
    [reply] = [e for e in await desk.timeline(1) if e.kind == "reply"]
    assert len(reply.body) > 20_000  # the whole text is kept in the timeline


async def test_text_full_of_markup_opens_a_ticket_and_is_answered_plainly(desk):
    text = ("*Help!* <@U123|bob> says ~it's broken~ in <#C1|general>: `err 0x80070005` "
            "<https://intranet/wiki|the wiki> **bold** ||spoiler|| <:sad:123> <t:1700000000:R> "
            "> quoted\n```stack trace```")
    await desk.dm("zed", text)
    ack = desk.ack(2)
    assert ack.text.startswith("Thanks, Zed. I've opened ticket #2 for you: “*Help!* <@U123|bob>")
    assert (await desk.ticket(2)).first_message == text  # kept exactly as written
    assert desk.cards(2)[0].message.text == text  # no group mention in it, so shown as is
    # Markup where a number belongs is answered like any other bad number.
    assert (await _answer(desk, "sam", "ticket claim <@U123|bob>")).startswith(
        "I need a ticket number.")


async def test_a_time_passed_on_a_friday_evening_suggests_the_next_open_day(sqlite_url):
    # Issue 14: at Friday 18:00, "15:00" was answered "did you mean tomorrow 15:00?", a
    # Saturday, when the desk is closed; and a day's name could not be written at all.
    friday_evening = datetime(2030, 6, 7, 18, 0, tzinfo=timezone.utc)
    async with FlowDesk(sqlite_url, start=friday_evening) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        await desk.command("sam", "ticket claim 1")
        assert (await _answer(desk, "sam", "ticket followup 1 15:00")).startswith(
            "15:00 has already passed; did you mean Monday 15:00, when the desk next opens?")
        await desk.command("sam", "ticket followup 1 Monday 15:00")
        assert desk.private_to("sam")[-1].text.startswith(
            "Noted: you'll update Ann on #1 by Monday at 15:00 UTC.")
