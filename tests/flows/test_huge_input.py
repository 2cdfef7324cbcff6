"""Huge text and unknown words: a polite, short answer, and nothing lost."""

from __future__ import annotations

import pytest

from bot.domain.tickets import SUBJECT_LIMIT, subject_from
from tests.flows.story import FlowDesk


@pytest.fixture
async def desk(db_url):
    async with FlowDesk(db_url) as desk:
        await desk.staffed()
        yield desk


async def test_a_100_kb_message_is_kept_whole_and_answered_briefly(desk):
    text = "Outlook crashes; the log says:\n" + ("0x80070005 access denied\n" * 4200)
    assert len(text) > 100_000
    await desk.dm("ann", text)
    ticket = await desk.ticket(1)
    assert ticket.first_message == text.strip()
    assert ticket.subject == "Outlook crashes; the log says: 0x80070005 access denied " \
        "0x80070005 access…"
    assert len(desk.ack(1).text) < 500


async def test_unknown_commands_and_words_are_answered_in_a_line(desk):
    for line, expected in [
        ("ticket " + "x" * 100_000, "I don't know “/ticket xxxxxxxx"),
        ("ticket frobnicate 1", "I don't know “/ticket frobnicate”. Try `/ticket help`"),
        ("helpdesk holidays add 2030-01-01", "I don't know “/helpdesk holidays”."),
        ("ticket show " + "#" * 50_000, "“####"),
    ]:
        mark = len(desk.adapter.sent)
        await desk.command("ann", line)
        [answer] = desk.since(mark)
        assert answer.message.ephemeral_to == "ann"
        assert answer.text.startswith(expected), answer.text[:200]
        assert len(answer.text) < 300


@pytest.mark.parametrize("text, subject", [
    # One long word: cut inside it rather than losing it.
    ("a" * 10_000, "a" * (SUBJECT_LIMIT - 1) + "…"),
    # A short word, then a very long one: the subject keeps what fits of both.
    ("VPN " + "b" * 10_000, "VPN " + "b" * (SUBJECT_LIMIT - 5) + "…"),
    # Words: cut at the last space that fits.
    ("word " * 2_000, ("word " * 15).strip() + "…"),
])
def test_a_10000_character_subject_is_shortened_sensibly(text, subject):
    assert subject_from(text) == subject
    assert len(subject_from(text)) <= SUBJECT_LIMIT


async def test_a_10000_character_subject_opens_a_ticket_with_a_sensible_one(desk):
    await desk.command("ann", "ticket new Printer " + "z" * 10_000)
    ticket = await desk.ticket(1)
    assert ticket.subject.startswith("Printer zzzz") and len(ticket.subject) == SUBJECT_LIMIT
    assert ticket.first_message == "Printer " + "z" * 10_000
