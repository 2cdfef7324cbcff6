"""Teams over Slack's wire: an admin's escaped mentions with ``team hr`` at the end add
one person to one team, and an agent's transfer moves the card and tells the requester."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.tables import PersonRow
from tests.support.slack.desk import GENERAL, TRIAGE, slack  # noqa: F401

HR_TRIAGE = "CHRTRIAGE"


def ephemerals_to(desk, user: str) -> list[str]:
    return [e["text"] for e in desk.fake.ephemerals if e["user"] == user]


async def test_team_words_after_escaped_mentions_are_never_people(slack):
    await slack.command("UADMIN", "/helpdesk team add hr", channel=GENERAL)
    await slack.command("UADMIN", "/helpdesk agents add <@UBOB|bob> team hr",
                        channel=GENERAL)
    assert ephemerals_to(slack, "UADMIN")[-1] == "Done: bob can now work team hr as an agent."
    async with slack.db.unit_of_work() as uow:
        people = set((await uow.session.execute(select(PersonRow.external_id))).scalars())
    assert "team" not in people and "hr" not in people


async def test_a_transfer_over_slack_moves_the_card_and_tells_the_requester(slack):
    await slack.make_agent()
    await slack.command("UADMIN", "/helpdesk team add hr", channel=GENERAL)
    await slack.command("UADMIN", f"/helpdesk triage <#{HR_TRIAGE}|hr-triage> team hr",
                        channel=GENERAL)
    # Someone works team hr: a team nobody works takes no transfer.
    await slack.command("UADMIN", "/helpdesk agents add <@UHANA|hana> team hr", channel=GENERAL)
    await slack.dm("UREQ", "My payslip is wrong")
    await slack.command("UAGENT", "/ticket transfer 1 hr payroll question", channel=GENERAL)
    assert ephemerals_to(slack, "UAGENT")[-1].startswith("Done: #1 is now with team hr")
    assert slack.fake.bot_messages(HR_TRIAGE, top_level=True)
    told = [m["text"] for m in slack.fake.bot_messages("DUREQ")]
    assert any(t.startswith("#1 is now with our hr team, who will get back to you by ")
               for t in told), told
    old_thread = [m["text"] for m in slack.fake.bot_messages(TRIAGE)
                  if "has moved to team hr" in m.get("text", "")]
    assert old_thread and "payroll question" in old_thread[0]


async def test_over_slack_the_old_card_is_updated_in_place_without_its_buttons(slack):
    await slack.make_agent()
    await slack.command("UADMIN", "/helpdesk team add hr", channel=GENERAL)
    await slack.command("UADMIN", f"/helpdesk triage <#{HR_TRIAGE}|hr-triage> team hr",
                        channel=GENERAL)
    # Someone works team hr: a team nobody works takes no transfer.
    await slack.command("UADMIN", "/helpdesk agents add <@UHANA|hana> team hr", channel=GENERAL)
    await slack.dm("UREQ", "My payslip is wrong")
    (card,) = slack.fake.bot_messages(TRIAGE, top_level=True)
    assert any(b["type"] == "actions" for b in card["blocks"])
    await slack.command("UAGENT", "/ticket transfer 1 hr payroll question", channel=GENERAL)
    # The same message, edited: it says where the ticket went and has no buttons left.
    assert slack.fake.bot_messages(TRIAGE, top_level=True) == [card]
    assert card.get("edits", 0) >= 1
    assert not any(b["type"] == "actions" for b in card["blocks"])
    assert "Moved to team hr by " in str(card["blocks"]) and "payroll question" in str(
        card["blocks"])


async def test_over_slack_a_reply_under_the_old_card_still_reaches_the_requester(slack):
    """FINDINGS-20b H1 over Slack's wire: a reply in the moved card's thread."""
    await slack.make_agent()
    await slack.command("UADMIN", "/helpdesk team add hr", channel=GENERAL)
    await slack.command("UADMIN", f"/helpdesk triage <#{HR_TRIAGE}|hr-triage> team hr",
                        channel=GENERAL)
    await slack.command("UADMIN", "/helpdesk agents add <@UHANA|hana> team hr", channel=GENERAL)
    await slack.dm("UREQ", "My payslip is wrong")
    (card,) = slack.fake.bot_messages(TRIAGE, top_level=True)
    await slack.command("UAGENT", "/ticket transfer 1 hr payroll question", channel=GENERAL)
    await slack.say("UAGENT", TRIAGE, "Payroll fixes these by Friday", thread_ts=card["ts"])
    told = [m["text"] for m in slack.fake.bot_messages("DUREQ")]
    assert any("Payroll fixes these by Friday" in t for t in told), told
