"""Slash commands, card buttons, modals and the App Home, through the real Bolt app."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.tables import PromiseRow, TicketRow
from tests.support.slack.desk import GENERAL, TRIAGE, slack  # noqa: F401


async def open_ticket(desk, text: str = "My VPN keeps dropping") -> tuple[dict, dict]:
    """Alex opens a ticket by DM; returns (Alex's message, the triage card)."""
    message = await desk.dm("UREQ", text)
    return message, card(desk)


def card(desk) -> dict:
    [found] = desk.fake.bot_messages(TRIAGE, top_level=True)
    return found


def field(message: dict, label: str) -> str:
    for block in message["blocks"]:
        for item in block.get("fields", []):
            if item["text"].startswith(f"*{label}*\n"):
                return item["text"].split("\n", 1)[1]
    raise AssertionError(label)


def ephemerals_to(desk, user: str) -> list[str]:
    return [e["text"] for e in desk.fake.ephemerals if e["user"] == user]


async def ticket_row(desk) -> TicketRow:
    async with desk.db.unit_of_work() as uow:
        return (await uow.session.execute(select(TicketRow))).scalar_one()


async def test_help_is_answered_only_to_the_person_who_asked(slack):
    result = await slack.command("UBOB", "/ticket help", channel=GENERAL)
    assert (result.status, result.body) == (200, "")
    assert result.seconds < 1.0
    call = slack.fake.calls_to("chat.postEphemeral")[-1]
    assert (call.args["channel"], call.args["user"]) == (GENERAL, "UBOB")
    assert "Here's what I can do" in call.args["text"]
    assert not [m for m in slack.fake.bot_messages(GENERAL)]


async def test_commands_the_person_may_not_use_are_refused_privately(slack):
    await slack.command("UBOB", "/helpdesk show", channel=GENERAL)
    assert "is for admins of the desk" in ephemerals_to(slack, "UBOB")[-1]
    await slack.command("UOWNER", "/helpdesk show", channel=GENERAL)  # a workspace owner
    assert "How this desk is set up" in ephemerals_to(slack, "UOWNER")[-1]
    assert "Triage channel: <#CTRIAGE>" in ephemerals_to(slack, "UOWNER")[-1]


async def test_in_the_bots_own_dm_a_private_answer_is_an_ordinary_message(slack):
    await slack.command("UREQ", "/ticket mine")
    assert "You have no tickets yet" in slack.fake.bot_messages("DUREQ")[-1]["text"]
    assert not ephemerals_to(slack, "UREQ")


async def test_where_the_bot_cannot_post_the_answer_goes_by_response_url(slack):
    slack.fake.forbid("CSECRET", "not_in_channel")
    await slack.command("UBOB", "/ticket help", channel="CSECRET", channel_name="secret")
    [(url, body)] = slack.fake.responses
    assert body["response_type"] == "ephemeral" and not body["replace_original"]
    assert "Here's what I can do" in body["text"]


async def test_a_command_from_a_dm_with_someone_else_is_answered_in_the_bots_dm(slack):
    await slack.command("UREQ", "/ticket new Scanner offline", channel="DUREQUBOB",
                        channel_name="directmessage")
    [ack] = [m for m in slack.fake.bot_messages("DUREQ") if "opened ticket #1" in m["text"]]
    assert (await ticket_row(slack)).thread_id == ack["ts"]


async def test_claim_from_the_card_updates_it_in_place_and_tells_the_requester(slack):
    message, posted = await open_ticket(slack)
    result = await slack.click("UAGENT", posted, "card.claim")
    assert result.status == 200
    updated = card(slack)
    assert updated["edits"] >= 1 and field(updated, "Owner") == "Sam"
    assert any("Good news: Sam from the IT desk is now looking after #1" in m["text"]
               for m in slack.fake.bot_messages("DUREQ", message["ts"]))
    assert "You now own #1" in ephemerals_to(slack, "UAGENT")[-1]
    assert len(slack.fake.calls_to("chat.update")) >= 1


async def test_card_buttons_are_for_agents_only(slack):
    _, posted = await open_ticket(slack)
    await slack.click("UBOB", posted, "card.claim")
    assert "is for agents of the desk" in ephemerals_to(slack, "UBOB")[-1]
    assert field(card(slack), "Owner") == "nobody yet"


async def test_reply_opens_a_modal_and_its_answer_reaches_the_requester(slack):
    message, posted = await open_ticket(slack)
    await slack.click("UAGENT", posted, "card.reply")
    [opened] = slack.fake.modals
    assert opened["trigger_id"].startswith("trig.")
    view = opened["view"]
    assert view["callback_id"] == f"hd|card.reply|{(await ticket_row(slack)).id}"
    assert [b["block_id"] for b in view["blocks"]] == ["text"]
    result = await slack.submit("UAGENT", {"text": "Try the new client <!here> & restart"})
    assert result.status == 200
    [reply] = [m for m in slack.fake.bot_messages("DUREQ", message["ts"])
               if m["text"].startswith("Sam:")]
    assert "Try the new client &lt;\u200b!here&gt; &amp; restart" in reply["text"]


async def test_follow_up_and_priority_modals_change_the_ticket(slack):
    message, posted = await open_ticket(slack)
    await slack.click("UAGENT", posted, "card.priority")
    await slack.submit("UAGENT", {"priority": "P1"})
    assert field(card(slack), "Priority").startswith("P1")
    await slack.click("UAGENT", card(slack), "card.followup")
    assert [b["block_id"] for b in slack.fake.modals[-1]["view"]["blocks"]] == ["when", "text"]
    await slack.submit("UAGENT", {"when": "2h", "text": ""})
    assert any("Sam will update you on #1 by" in m["text"]
               for m in slack.fake.bot_messages("DUREQ", message["ts"]))
    async with slack.db.unit_of_work() as uow:
        kinds = {p.kind for p in (await uow.session.execute(
            select(PromiseRow).where(PromiseRow.status == "pending"))).scalars()}
    assert "follow_up" in kinds


async def test_resolve_asks_the_requester_who_confirms_and_rates_with_buttons(slack):
    message, posted = await open_ticket(slack)
    await slack.click("UAGENT", posted, "card.resolve")
    await slack.submit("UAGENT", {"summary": "Reinstalled the VPN client"})
    thread = lambda: slack.fake.bot_messages("DUREQ", message["ts"])  # noqa: E731
    [question] = [m for m in thread() if "Has this solved your problem?" in m["text"]]
    yes_no = [e["action_id"] for e in question["blocks"][-1]["elements"]]
    assert yes_no == ["resolution.yes", "resolution.no"]
    await slack.click("UREQ", question, "resolution.yes")
    assert (await ticket_row(slack)).status == "closed"
    [rating] = [m for m in thread() if "Are you satisfied" in m["text"]]
    ids = [e["action_id"] for e in rating["blocks"][-1]["elements"]]
    assert len(ids) == 5 and len(set(ids)) == 5  # Slack rejects repeated action_ids
    await slack.click("UREQ", rating, "feedback.rate", value_suffix=":4")
    assert any("Thank you for rating it 4/5" in m["text"] for m in thread())


async def test_not_solved_reopens_the_ticket(slack):
    message, posted = await open_ticket(slack)
    await slack.command("UAGENT", "/ticket resolve 1", channel=GENERAL)
    [question] = [m for m in slack.fake.bot_messages("DUREQ", message["ts"])
                  if "Has this solved" in m["text"]]
    await slack.click("UREQ", question, "resolution.no")
    assert (await ticket_row(slack)).status == "in_progress"


async def test_the_app_home_shows_requesters_their_tickets_and_agents_their_queue(slack):
    await open_ticket(slack, "Monitor flickers")
    await slack.open_home("UREQ")
    view = slack.fake.home_views["UREQ"]
    assert view["type"] == "home"
    text = str(view["blocks"])
    assert "#1 Monitor flickers" in text and "next update by" in text
    assert "Waiting to be claimed" not in text
    await slack.open_home("UAGENT")
    agent_view = str(slack.fake.home_views["UAGENT"]["blocks"])
    for section in ("Yours", "Waiting to be claimed", "Breaching soon"):
        assert section in agent_view
    assert "#1 P3 Monitor flickers" in agent_view


async def test_the_intake_panel_opens_a_ticket_from_its_modal(slack):
    await slack.command("UADMIN", "/helpdesk panel", channel=GENERAL)
    [panel] = slack.fake.bot_messages(GENERAL)
    await slack.click("UBOB", panel, "intake.panel")
    assert slack.fake.modals[-1]["view"]["blocks"][0]["element"]["multiline"]
    await slack.submit("UBOB", {"text": "Docking station not detected"})
    [ack] = [m for m in slack.fake.bot_messages(GENERAL) if "opened ticket #1" in m["text"]]
    assert "thread_ts" not in ack  # it starts the ticket's thread
    assert (await ticket_row(slack)).thread_id == ack["ts"]
