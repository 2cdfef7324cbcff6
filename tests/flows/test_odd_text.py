"""Text no person meant as words: invisible, NUL bytes, broken UTF-8, terminal escapes.

What a person typed is cleaned once, where events enter the desk (the router), for
every platform: control characters and ANSI escape sequences go (newlines and tabs
stay), a NUL never reaches the database (PostgreSQL refuses it in text columns), a
lone surrogate (what undecodable bytes become) is a replacement character, and a
message with nothing visible in it opens no ticket. Display names get the same, on
one line and at a sensible length.
"""

from __future__ import annotations

import pytest

from tests.flows.story import FlowDesk

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width space, non-joiner, joiner, word joiner, BOM
    "\x00",
    "\x00\x00\x00",
    "   \t \n ",
    "\udcff\udcfe",  # undecodable bytes, as surrogateescape reads them
    "\ufffd\ufffd",  # undecodable bytes, as errors="replace" reads them
    "\x1b[31m\x1b[0m",  # colour codes and nothing else
    "\u3164",  # Hangul filler, a favourite "blank" name and message
    "\x07\x08\x7f",
]


@pytest.fixture
async def desk(db_url):
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        yield desk


@pytest.mark.parametrize("text", INVISIBLE, ids=lambda t: repr(t)[:20])
async def test_a_message_with_nothing_visible_opens_no_ticket_and_breaks_nothing(desk, text):
    await desk.dm("ann", text)
    await desk.command("ann", f"ticket new {text}")
    assert await desk.ticket_count() == 0
    assert not any("try again in a minute" in s.text for s in desk.adapter.sent), \
        desk.adapter.transcript()
    # The desk still works for Ann afterwards.
    await desk.dm("ann", "The VPN drops")
    assert await desk.ticket_count() == 1


async def test_nul_bytes_and_escapes_never_reach_the_database(desk):
    text = "Printer \x00on floor 2\x1b[2J\x1b[31m says \x1b]0;pwned\x07PC LOAD\x9b31m LETTER\r\nhelp\tplease"
    await desk.dm("ann", text, display_name="Ann\x00\x1b[5m Lee")
    ticket = await desk.ticket(1)
    assert ticket.first_message == "Printer on floor 2 says PC LOAD LETTER\nhelp\tplease"
    assert ticket.subject == "Printer on floor 2 says PC LOAD LETTER help please"
    assert desk.ack(1).text.startswith("Thanks, Ann Lee. I've opened ticket #1")
    # Commands, replies, notes and form answers are cleaned the same way.
    await desk.command("sam", "ticket note 1 see \x00\x1b[1mthe\x1b[0m log")
    await desk.command("sam", "ticket reply 1 On \x00it\x1b[A")
    await desk.press("sam", "card.followup", str(ticket.id), channel="C-triage",
                     form={"when": "2h\x00", "text": "check\x00 again\x1b[K"})
    bodies = [e.body for e in await desk.timeline(1)]
    assert "see the log" in bodies and "On it" in bodies and "check again" in bodies
    for sent in desk.adapter.sent:
        assert "\x00" not in sent.text and "\x1b" not in sent.text, sent


async def test_a_display_name_full_of_control_characters_or_500_long_is_stored_clean(desk):
    await desk.dm("ann", "The VPN drops", display_name="A" * 500)
    await desk.dm("bob", "Teams has no sound", display_name="\x1b[31mBob\nSmith\x00\t\u202e")
    await desk.dm("cat", "Printer", display_name="\u200b\x00")
    ann = desk.ack(1).text
    assert ann.startswith("Thanks, " + "A" * 10) and "A" * 101 not in ann
    assert desk.ack(2).text.startswith("Thanks, Bob Smith. I've opened ticket #2")
    # A name with nothing visible in it is no name: the person is called by a mention,
    # which Slack and Discord show as their name (never a raw id).
    assert desk.ack(3).text.startswith("Thanks, <@cat>. I've opened ticket #3")


async def test_text_with_invisible_characters_among_words_is_kept(desk):
    # Zero-width joiners inside emoji and words are part of the text, not noise.
    text = "Laptop 👩\u200d💻 won't boot; it says “Ключ не найден”"
    await desk.dm("ann", text)
    assert (await desk.ticket(1)).first_message == text
