"""The NO-PING test: text people wrote is repeated without ever pinging a whole group.

Every group mention Slack and Discord know (``@everyone``, ``@here``, ``@channel``,
``<!channel>``, ``<!here>``, ``<!everyone>``, ``<!subteam^S123>``, ``<@&123456>``) is
put into each place where the desk repeats someone's words: the requester's messages,
agents' replies (by command, under the card, by the card's button, in the requester's
thread), follow-up texts, notes, resolve summaries, wait texts, escalation reasons and
the first message (the card, the acknowledgement's subject and every view). No message
text may then contain any of them verbatim.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.flows.story import FlowDesk, full_text

PINGS = ("@everyone", "@here", "@channel", "<!channel>", "<!here>", "<!everyone>",
         "<!subteam^S123>", "<@&123456>")
PATTERNS = {ping: re.compile(re.escape(ping)) for ping in PINGS}
LOUD = "Heads up " + " ".join(PINGS) + " end"


def pings_in(desk: FlowDesk, mark: int = 0) -> list[tuple[str, str]]:
    """(group mention, message) for every group mention left in a message sent after ``mark``."""
    found = []
    for sent in desk.since(mark):
        text = full_text(sent)
        found += [(ping, text) for ping, pattern in PATTERNS.items() if pattern.search(text)]
    return found


async def _open(desk: FlowDesk, text: str = "The printer is jammed") -> None:
    """A staffed desk with an intake channel, where Ann opens #1 there with ``text``."""
    await desk.staffed(agents=("sam", "kim"), leads=("lee",), intake="C-help")
    await desk.channel_message("ann", "C-help", text)


# One scenario per place the desk repeats words; each puts LOUD there and nowhere else.
async def requester_message(desk):
    """Ann writes in her thread (relayed under the card)."""
    await desk.requester_says("ann", 1, LOUD)


async def agent_reply_command(desk):
    """``/ticket reply``."""
    await desk.command("sam", f"ticket reply 1 {LOUD}")


async def agent_reply_under_card(desk):
    """Sam writes under the card (relayed to Ann)."""
    await desk.in_triage_thread("sam", 1, LOUD)


async def agent_reply_card_button(desk):
    """The card's Reply button."""
    await desk.press_button("sam", desk.cards(1)[0], "Reply", form={"text": LOUD})


async def agent_in_requesters_thread(desk):
    """Sam writes in Ann's own thread (relayed under the card)."""
    await desk.requester_says("sam", 1, LOUD)


async def follow_up_text(desk):
    """A follow-up's text, the bot's cover of it, and the agent's view."""
    await desk.command("sam", f"ticket followup 1 1h {LOUD}")
    await desk.advance(timedelta(hours=1))  # and the bot's cover of it
    await desk.command("sam", "ticket show 1")


async def note_text(desk):
    """Notes by command and under the card, then the agent's view that shows them."""
    await desk.command("sam", f"ticket note 1 {LOUD}")
    await desk.in_triage_thread("sam", 1, f"note: {LOUD}")
    await desk.command("sam", "ticket show 1")


async def resolve_summary(desk):
    """Resolve summaries by command and by the card's button, and Ann's view."""
    await desk.command("sam", f"ticket resolve 1 {LOUD}")
    await desk.press_button("kim", desk.cards(1)[0], "Resolve", form={"summary": LOUD})
    await desk.command("ann", "ticket show 1")


async def wait_texts(desk):
    """Waiting on the requester and on a third party, and Ann's view."""
    await desk.command("sam", f"ticket wait 1 requester {LOUD}")
    await desk.command("sam", f"ticket wait 1 third-party {LOUD}")
    await desk.command("ann", "ticket show 1")


async def escalation_reason(desk):
    """Escalation reasons by command and by the card's button, and the agent's view."""
    await desk.command("sam", f"ticket escalate 1 {LOUD}")
    await desk.press_button("sam", desk.cards(1)[0], "Escalate", form={"reason": LOUD})
    await desk.command("sam", "ticket show 1")


async def first_message_card_and_views(desk):
    """The card (posted on opening), ``show``, ``mine``, ``queue`` and both home views."""
    await desk.command("sam", "ticket show 1")
    await desk.command("ann", "ticket show 1")
    await desk.command("ann", "ticket mine")
    await desk.command("sam", "ticket queue")
    await desk.home("ann")
    await desk.home("sam")


async def first_message_in_the_acknowledgement(desk):
    """Opening the ticket is the whole scenario."""


async def first_message_in_the_claim_confirmation(desk):
    """Sam's private "You now own #1 (subject...)"."""
    await desk.command("sam", "ticket claim 1")


async def first_message_in_the_assignment(desk):
    """Kim's DM "Sam has given you #1 (subject...)"."""
    await desk.command("sam", "ticket assign 1 <@kim|Kim>")


async def first_message_in_the_same_or_new_question(desk):
    """Ann's "You already have #1 open (subject)" question."""
    await desk.dm("ann", "Hello")  # a DM while #1 is open: "same issue, or new?"


REPEATED_WORDS = [requester_message, agent_reply_command,
                  agent_reply_under_card, agent_reply_card_button, agent_in_requesters_thread,
                  follow_up_text, note_text, resolve_summary, wait_texts, escalation_reason]


def _subject_bug(where: str):
    """The scenario ``first_message_in_the_<where>`` (once a bug: the subject was repeated
    without defang())."""
    return pytest.param(globals()[f"first_message_in_the_{where}"])


@pytest.mark.parametrize("scenario", REPEATED_WORDS, ids=lambda f: f.__name__)
async def test_repeated_words_never_ping_a_group(sqlite_url, scenario):
    async with FlowDesk(sqlite_url) as desk:
        await _open(desk)
        mark = len(desk.adapter.sent)
        await scenario(desk)
        said = desk.since(mark)
        assert any("Heads up" in full_text(s) for s in said), "the words were not repeated"
        assert pings_in(desk, mark) == []


@pytest.mark.parametrize("scenario", [
    first_message_card_and_views,
    _subject_bug("acknowledgement"),
    _subject_bug("claim_confirmation"),
    _subject_bug("assignment"),
    _subject_bug("same_or_new_question"),
], ids=lambda f: getattr(f, "__name__", ""))
async def test_a_loud_first_message_never_pings_a_group(sqlite_url, scenario):
    async with FlowDesk(sqlite_url) as desk:
        await _open(desk, LOUD)
        # Opening says two things: the acknowledgement, then the card. Each scenario is
        # judged on its own messages, so one bug cannot hide (or fake) another.
        ack, card = desk.adapter.sent
        mark = len(desk.adapter.sent)
        await scenario(desk)
        said = [ack] if scenario is first_message_in_the_acknowledgement else \
            [card] + desk.since(mark)
        assert any("Heads up" in full_text(s) for s in said), "the words were not repeated"
        assert [(ping, full_text(s)) for s in said for ping, pattern in PATTERNS.items()
                if pattern.search(full_text(s))] == []


async def test_no_ping_through_a_whole_loud_ticket(db_url):
    """Every kind of repeated text at once, through one ticket's whole life."""
    async with FlowDesk(db_url) as desk:
        await _open(desk, LOUD)
        for scenario in (requester_message, agent_reply_command, agent_reply_under_card,
                         agent_reply_card_button, agent_in_requesters_thread, follow_up_text,
                         note_text, wait_texts, escalation_reason,
                         first_message_card_and_views, first_message_in_the_assignment):
            await scenario(desk)
        await desk.requester_says("ann", 1, LOUD)  # (resumes after the wait)
        await desk.command("kim", f"ticket resolve 1 {LOUD}")
        assert len([s for s in desk.adapter.sent if "Heads up" in full_text(s)]) >= 20
        assert pings_in(desk) == []
