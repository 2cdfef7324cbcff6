"""``/kb add`` and ``/kb edit KB-N`` on Slack: a modal for agents (the edit filled in with
the article), submitted through the durable inbox and saved by the same desk code as the
text form; requesters are refused politely, forged or huge answers save nothing."""

from __future__ import annotations

import pytest

from tests.support.slack import events as payloads
from tests.support.slack.desk import SlackDesk
from tests.support.slack.inbox import Held, inbox_rows


def told(desk, user: str) -> list[str]:
    """What the bot said to ``user`` in their DM with it, where these commands are run
    and their modals answered."""
    return [m["text"] for m in desk.fake.bot_messages(desk.fake.dm_of(user))]


async def articles(desk) -> list:
    async with desk.db.reading() as uow:
        workspace = await uow.workspaces.find("slack", desk.team)
        return await uow.kb.all(workspace.id)


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


@pytest.fixture
async def slack(db_url):
    async with SlackDesk(db_url, inbox=True) as desk:
        await desk.make_agent()
        yield desk


async def test_kb_add_opens_a_modal_whose_answers_become_an_article(slack):
    await slack.command("UAGENT", "/kb add")
    [opened] = slack.fake.modals
    view = opened["view"]
    assert view["title"]["text"] == "New article"
    fields = inputs(view)
    assert list(fields) == ["title", "text", "tags"]
    assert fields["text"]["multiline"] and fields["title"]["max_length"] == 200
    assert all("initial_value" not in element for element in fields.values())
    before = told(slack, "UAGENT")
    await slack.submit("UAGENT", {"title": "Reset the office printer",
                                  "text": "Hold the power button for ten seconds.",
                                  "tags": "printer, #Office"})
    # The modal was the command's answer; its submission's answer is the only message.
    assert told(slack, "UAGENT")[len(before):] == ["Added KB-1: “Reset the office printer”."]
    [article] = await articles(slack)
    assert (article.title, article.body, article.tags) == (
        "Reset the office printer", "Hold the power button for ten seconds.",
        ("printer", "office"))
    assert await inbox_rows(slack) == []


async def test_kb_edit_opens_the_article_filled_in_and_saves_the_changes(slack):
    await slack.command("UAGENT", "/kb add VPN drops :: Reconnect the client. #vpn #internal")
    await slack.command("UAGENT", "/kb edit KB-1")
    view = slack.fake.modals[-1]["view"]
    assert view["title"]["text"] == "Edit KB-1"
    fields = inputs(view)
    assert (fields["title"]["initial_value"], fields["text"]["initial_value"],
            fields["tags"]["initial_value"]) == ("VPN drops", "Reconnect the client.",
                                                 "vpn, internal")
    await slack.submit("UAGENT", {"title": "The VPN keeps dropping",
                                  "text": "Reconnect, then update the client.", "tags": "vpn"})
    assert told(slack, "UAGENT")[-1] == "Saved KB-1: “The VPN keeps dropping”."
    [article] = await articles(slack)
    assert (article.number, article.title, article.tags) == (1, "The VPN keeps dropping",
                                                             ("vpn",))


async def test_a_requester_gets_no_modal_but_a_polite_refusal(slack):
    await slack.command("UREQ", "/kb add")
    await slack.command("UREQ", "/kb edit KB-1")
    assert slack.fake.modals == []
    refusals = told(slack, "UREQ")[-2:]
    assert len(refusals) == 2 and all("for agents of the desk" in r for r in refusals)


async def test_a_form_submitted_after_the_agent_left_the_desk_saves_nothing(slack):
    await slack.command("UAGENT", "/kb add")
    await slack.command("UADMIN", "/helpdesk agents remove <@UAGENT|sam>")
    await slack.submit("UAGENT", {"title": "Pay me", "text": "Wire money here."})
    assert "for agents of the desk" in told(slack, "UAGENT")[-1]
    assert await articles(slack) == []


async def test_huge_or_hostile_answers_are_refused_and_save_nothing(slack):
    await slack.command("UAGENT", "/kb add")
    modal = slack.fake.modals[-1]
    # Slack would stop these at the input's max_length; a forged payload does not.
    await slack.submit("UAGENT", {"title": "x" * 5000, "text": "body"}, modal)
    assert "title can be at most 200 characters; that one has 5000" in told(slack, "UAGENT")[-1]
    await slack.submit("UAGENT", {"title": "Fine", "text": "y" * 25_000}, modal)
    assert "text can be at most 20,000 characters" in told(slack, "UAGENT")[-1]
    await slack.submit("UAGENT", {"title": "Fine", "text": "ok", "tags": "<script>alert(1)"},
                       modal)
    assert "isn't one" in told(slack, "UAGENT")[-1]
    await slack.submit("UAGENT", {"title": "   ", "text": "\u200b"}, modal)
    assert told(slack, "UAGENT")[-1].startswith("An article needs a title")
    assert await articles(slack) == []
    # A title with markup is kept as written and never pings anyone when echoed.
    await slack.submit("UAGENT", {"title": "<!channel> *Wifi*", "text": "Rejoin it."}, modal)
    assert "<!channel>" not in told(slack, "UAGENT")[-1]
    assert [a.title for a in await articles(slack)] == ["<!channel> *Wifi*"]


async def test_an_edit_of_a_removed_article_says_so(slack):
    await slack.command("UAGENT", "/kb add Old :: Text")
    await slack.command("UAGENT", "/kb edit KB-1")
    modal = slack.fake.modals[-1]
    await slack.command("UAGENT", "/kb remove KB-1")
    await slack.submit("UAGENT", {"title": "New", "text": "Text"}, modal)
    assert told(slack, "UAGENT")[-1].startswith("I can't find KB-1")
    assert await articles(slack) == []


async def test_the_text_form_still_works_and_no_form_for_an_unknown_article(slack):
    await slack.command("UAGENT", "/kb add Wifi :: Forget the network and rejoin. #wifi")
    assert told(slack, "UAGENT")[-1] == "Added KB-1: “Wifi”."
    await slack.command("UAGENT", "/kb edit KB-1 Wifi drops :: Rejoin it.")
    assert told(slack, "UAGENT")[-1] == "Saved KB-1: “Wifi drops”."
    await slack.command("UAGENT", "/kb edit KB-9")
    assert slack.fake.modals == []
    assert told(slack, "UAGENT")[-1].startswith("I can't find KB-9")
    [article] = await articles(slack)
    assert article.tags == ("wifi",)


async def test_a_modal_submission_is_kept_in_the_inbox_until_handled(slack):
    await slack.command("UAGENT", "/kb add")
    view = slack.fake.modals[-1]["view"]
    held = Held(slack)
    body = payloads.view_submission(view, {"title": "Toner", "text": "Shake the cartridge."},
                                    team=slack.team, user="UAGENT")
    result = await slack.sender.interaction(body)
    assert result.status == 200
    await held.entered.wait()
    [kept] = await inbox_rows(slack)
    assert kept.event_key == body["trigger_id"]
    assert await articles(slack) == []
    held.release.set()
    await slack.settle()
    assert await inbox_rows(slack) == []
    assert [a.title for a in await articles(slack)] == ["Toner"]
