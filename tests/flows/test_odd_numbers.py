"""Ticket numbers no ticket has: too big for the database, zero, negative, not numbers.

Every command that takes a ticket number, and every button whose value names a ticket,
answers plainly and changes nothing, on SQLite and on PostgreSQL (whose integer columns
are 32 and 64 bits wide, and which refuses a bigger number with an error, not "none").
"""

from __future__ import annotations

import pytest

from tests.flows.story import FlowDesk

COMMANDS = ("show", "claim", "assign", "reply", "note", "followup", "priority", "wait",
            "escalate", "resolve", "reopen")
# Arguments that would be right for ticket #1, so only the number is wrong.
GOOD_ARGS = {"assign": "<@sam|Sam>", "reply": "hello", "note": "hello", "followup": "2h",
             "priority": "P2", "wait": "requester"}
USAGE = {
    "show": "Usage: `/ticket show <n>`",
    "claim": "Usage: `/ticket claim <n>`",
    "reopen": "Usage: `/ticket reopen <n>`",
}


@pytest.fixture
async def desk(db_url):
    """A staffed desk where Ann has ticket #1 open."""
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        yield desk


async def _state(desk: FlowDesk) -> tuple:
    return (await desk.ticket(1), await desk.timeline(1), await desk.promises(1),
            await desk.ticket_count())


async def _answer(desk: FlowDesk, user: str, line: str) -> str:
    """The one private answer to ``line``; nothing else may be said or changed."""
    before = await _state(desk)
    mark = len(desk.adapter.sent)
    await desk.command(user, line)
    [answer] = desk.since(mark)
    assert answer.message.ephemeral_to == user, desk.adapter.transcript()
    assert await _state(desk) == before
    return answer.text


@pytest.mark.parametrize("number", [
    "99999999999999999999",  # past SQLite's 64 bits: OverflowError before
    "2147483648",  # past PostgreSQL's 32-bit integer column
    "9223372036854775808",  # past 64 bits
])
async def test_a_number_past_every_ticket_says_so_in_every_command(desk, number):
    # Issue 14: answered with what is wrong, as the README says, not "I can't find".
    for word in COMMANDS:
        line = f"ticket {word} {number} {GOOD_ARGS.get(word, '')}".strip()
        assert (await _answer(desk, "sam", line)).startswith(
            f"“{number}” is bigger than any ticket number the desk gives out. Usage: "), line


@pytest.mark.parametrize("number", ["0", "#0", "000"])
async def test_ticket_zero_is_not_a_ticket_number_in_every_command(desk, number):
    for word in COMMANDS:
        line = f"ticket {word} {number} {GOOD_ARGS.get(word, '')}".strip()
        assert (await _answer(desk, "sam", line)).startswith(
            f"“{number}” isn't a ticket number: ticket numbers start at 1. Usage: "), line


async def test_a_number_of_thousands_of_digits_says_so_and_is_shown_short(desk):
    # int() of more than 4,300 digits raises ValueError in Python 3.11+.
    text = await _answer(desk, "sam", "ticket show " + "9" * 5000)
    assert text.startswith("“9999") and "…" in text and "bigger than any" in text
    assert len(text) < 200


@pytest.mark.parametrize("written", ["-5", "#-1", "#abc", "1.5", "1e9", "#", "²", "#1#2"])
async def test_something_that_is_not_a_ticket_number_says_so(desk, written):
    for word in ("show", "claim", "reopen"):
        text = await _answer(desk, "sam", f"ticket {word} {written}")
        assert text == (f"“{written}” isn't a ticket number: ticket numbers look like 12 or "
                        f"#12. {USAGE[word]}"), (word, written)


async def test_a_ticket_number_in_other_digits_is_read(desk):
    # Full-width digits, as a Japanese keyboard types them, are still the number 1.
    text = await _answer(desk, "sam", "ticket show １")
    assert text.startswith("#1 · The VPN drops")


@pytest.mark.parametrize("action", ["card.claim", "card.reply", "card.followup",
                                    "card.priority", "card.escalate", "card.resolve"])
@pytest.mark.parametrize("value", ["99999999999999999999", "9223372036854775808", "0", "-1",
                                   "abc", "", "9" * 5000, "424242"])
async def test_a_card_button_naming_no_ticket_is_answered_and_changes_nothing(desk, action,
                                                                             value):
    before = await _state(desk)
    mark = len(desk.adapter.sent)
    await desk.press("sam", action, value, channel="C-triage",
                     form={"text": "hi", "when": "2h", "priority": "P2"})
    [answer] = desk.since(mark)
    assert answer.message.ephemeral_to == "sam"
    assert answer.text == "I can't find the ticket this button is about."
    assert await _state(desk) == before


@pytest.mark.parametrize("action", ["resolution.yes", "resolution.no", "feedback.rate",
                                    "intake.same", "intake.new"])
@pytest.mark.parametrize("value", ["99999999999999999999", "9223372036854775808:3", "-1:msg",
                                   "abc", "", "9" * 5000 + ":1", "424242:1"])
async def test_a_requester_button_naming_no_ticket_changes_nothing(desk, action, value):
    before = await _state(desk)
    mark = len(desk.adapter.sent)
    await desk.press("ann", action, value)
    said = desk.since(mark)
    assert all(s.message.ephemeral_to == "ann" for s in said), desk.adapter.transcript()
    assert not any("try again in a minute" in s.text for s in said)
    assert await _state(desk) == before


async def test_a_card_button_from_another_workspace_does_nothing_here(desk):
    # Ticket #1's id, pressed from another workspace (a forged or misrouted payload).
    ticket = await desk.ticket(1)
    before = await _state(desk)
    from bot.core import ButtonPressed
    mark = len(desk.adapter.sent)
    await desk.deliver(ButtonPressed(
        platform=desk.platform, workspace_id="T-other", event_id="x1",
        actor=desk.actor("mallory", is_platform_admin=True), channel_id="C-x",
        action="card.resolve", value=str(ticket.id), form={"summary": "gone"}))
    [answer] = desk.since(mark)
    assert answer.text == "I can't find the ticket this button is about."
    assert await _state(desk) == before
