"""Odd input through the real Slack adapter: invisible, NUL-laden and escape-laden
messages, people with unprintable or endless names, ticket numbers past any column,
and button values naming no ticket; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.tables import PersonRow, TicketRow
from tests.support.slack import events as payloads
from tests.support.slack.desk import TRIAGE, SlackDesk


@pytest.fixture
async def slack(db_url):
    async with SlackDesk(db_url) as desk:
        await desk.make_agent()
        await desk.set_channel("triage", TRIAGE)
        yield desk


async def _tickets(desk) -> list[TicketRow]:
    async with desk.db.unit_of_work() as uow:
        return list((await uow.session.execute(select(TicketRow))).scalars())


@pytest.mark.parametrize("text", ["\u0000", "\u200b\u200b", "\ud800", " \n\t", "\x1b[0m"],
                         ids=["nul", "zero-width", "surrogate", "blank", "escape"])
async def test_a_message_with_nothing_visible_opens_no_ticket(slack, text):
    await slack.dm("UREQ", text)
    assert await _tickets(slack) == []
    await slack.dm("UREQ", "My VPN keeps dropping")
    assert len(await _tickets(slack)) == 1


async def test_nul_escapes_and_an_unprintable_500_character_name_are_stored_clean(slack):
    slack.fake.add_user("UODD", "\x1b[31m" + "Zed\x00\n" * 100)
    await slack.dm("UODD", "Printer\x00 jammed\x1b[2J\x1b]0;owned\x07 again\r\nplease")
    [ticket] = await _tickets(slack)
    assert ticket.first_message == "Printer jammed again\nplease"
    async with slack.db.unit_of_work() as uow:
        person = (await uow.session.execute(
            select(PersonRow).where(PersonRow.external_id == "UODD"))).scalar_one()
    assert person.display_name.startswith("Zed Zed Zed") and len(person.display_name) <= 80
    for message in slack.fake.bot_messages("DUODD"):
        assert "\x00" not in message["text"] and "\x1b" not in message["text"]


async def test_a_ticket_number_past_every_column_says_so(slack):
    await slack.command("UAGENT", "/ticket show 99999999999999999999")
    said = [m["text"] for m in slack.fake.bot_messages("DUAGENT")]
    assert said[-1] == ("“99999999999999999999” is bigger than any ticket number the desk "
                        "gives out. Usage: `/ticket show &lt;n&gt;`")


async def test_a_button_value_naming_no_ticket_is_answered_not_crashed(slack):
    await slack.dm("UREQ", "My VPN keeps dropping")
    [card] = slack.fake.bot_messages(TRIAGE, top_level=True)
    button = dict(payloads.find_button(card, "card.claim"))
    button["value"] = "99999999999999999999"
    body = payloads.block_actions(card, button, team=slack.team, user="UAGENT",
                                  response_url=slack.fake.response_url())
    await slack._send("interactive", body)
    await slack.settle()
    [ticket] = await _tickets(slack)
    assert ticket.owner_id is None
    texts = [e["text"] for e in slack.fake.ephemerals if e["user"] == "UAGENT"]
    texts += [b["text"] for _, b in slack.fake.responses]
    assert "I can't find the ticket this button is about." in texts, texts


async def test_helpdesk_triage_run_in_a_dm_is_refused_not_set(slack):
    await slack.command("UADMIN", "/helpdesk triage")
    said = slack.fake.bot_messages("DUADMIN")[-1]["text"]
    assert said.startswith("This is a direct message, not a channel")
    await slack.dm("UREQ", "My VPN keeps dropping")
    assert slack.fake.bot_messages(TRIAGE, top_level=True)  # the card still goes to triage
