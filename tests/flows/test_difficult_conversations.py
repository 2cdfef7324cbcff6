"""Difficult conversations: an agent flags one (by command or by reaction on the
requester's message); the lead on duty hears privately with the message and the
reason, the agent gets a kind word, and the requester is never told (leak test)."""

from __future__ import annotations

from tests.flows.story import FlowDesk

RUDE = "THIS IS THE THIRD TIME. YOU PEOPLE ARE USELESS."


def _everything_the_requester_can_see(desk: FlowDesk, user: str = "ann") -> list[str]:
    """Every text that reached the requester: their thread, their DMs, their private
    answers and anything addressed to them."""
    thread = [s.text for s in desk.requester_thread(1)]
    private = [s.text for s in desk.private_to(user)]
    theirs = [s.text for s in desk.adapter.sent if s.message.audience == "requester"
              or (s.message.channel_id == f"D-{user}" and s.message.ephemeral_to in (None, user))
              or (s.message.channel_id == "C-help" and s.message.ephemeral_to in (None, user))]
    return thread + private + theirs


async def test_a_flag_reaches_the_lead_on_duty_privately_and_never_the_requester(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it Kim")
        await desk.dm("ann", "My laptop is broken again")
        await desk.command("sam", "ticket claim 1")
        await desk.requester_says("ann", 1, RUDE)
        await desk.command("sam", "ticket flag 1 shouting at me in capitals")

        (to_kim,) = [s.text for s in desk.private_to("kim")]
        assert to_kim == (
            "Sam flagged a difficult conversation on #1 with Ann: “shouting at me in "
            f"capitals”. Their message: “{RUDE}”. You can take it over with "
            "`/ticket assign 1 <person>`.")
        assert desk.private_to("lee") == []
        assert desk.private_to("sam")[-1].text == (
            "Thank you for flagging it. Kim can see it now, privately; Ann isn't told. "
            "You don't have to handle this alone.")
        # The card shows it to the agents.
        card = desk.cards(1)[-1]
        assert ("Difficult conversation", "flagged once, privately") in card.message.fields
        # Leak test: nothing the requester can see says so, and their own view of the
        # ticket's timeline leaves it out.
        await desk.command("ann", "ticket show 1")
        seen = _everything_the_requester_can_see(desk)
        assert seen and not any("flag" in text.lower() or "capitals" in text
                                or "difficult" in text.lower() for text in seen), seen
        # The staff's view has it.
        await desk.command("sam", "ticket show 1")
        assert "flagged a difficult conversation: “shouting at me in capitals”" in \
            desk.private_to("sam")[-1].text
        # The lead may take it over.
        await desk.command("kim", "ticket assign 1 <@kim|Kim>")
        assert (await desk.ticket(1)).owner_id is not None


async def test_the_flag_reaction_on_the_requesters_message_flags_it(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",), intake="C-help")
        await desk.channel_message("ann", "C-help", "The printer is jammed")
        channel, thread = desk.thread_of(1)
        mark = len(desk.adapter.sent)
        # Sam sees Ann's rude reply in the intake channel's thread and flags it.
        await desk.react("sam", "triangular_flag_on_post", author="ann", text=RUDE,
                         channel=channel, message_id=thread)
        (to_lee,) = [s.text for s in desk.private_to("lee")]
        assert to_lee.startswith("Sam flagged a difficult conversation on #1 with Ann. "
                                 f"Their message: “{RUDE}”.")
        assert desk.requester_said(mark) == []
        seen = _everything_the_requester_can_see(desk)
        assert seen and not any("flag" in t.lower() for t in seen), seen
        # A requester's own flag, or a flag on an agent's message, is nothing.
        await desk.react("ann", "🚩", author="ann", text=RUDE, channel=channel,
                         message_id=thread)
        await desk.react("sam", "🚩", author="sam", text="I'm on it", channel=channel,
                         message_id=thread)
        assert len(desk.private_to("lee")) == 1


async def test_the_flag_reaction_on_a_relayed_message_in_the_triage_thread(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "The printer is jammed")
        await desk.requester_says("ann", 1, RUDE)
        relay = desk.triage_thread(1)[-1]
        await desk.react("sam", "🚩", author="helpdesk-bot", text=relay.text,
                         channel=relay.message.channel_id, message_id=relay.message_id,
                         thread_id=relay.message.thread_id, author_is_bot=True)
        assert len(desk.private_to("lee")) == 1 and RUDE in desk.private_to("lee")[0].text
        assert not any("flag" in t.lower() for t in _everything_the_requester_can_see(desk))


async def test_a_flag_needs_a_reason_and_an_agent(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "Hello")
        await desk.command("sam", "ticket flag 1")
        assert desk.last().text.startswith("I need a few words about what happened")
        await desk.command("ann", "ticket flag 1 they are mean")
        assert "flagging difficult conversations" in desk.last().text
        assert desk.private_to("lee") == []
