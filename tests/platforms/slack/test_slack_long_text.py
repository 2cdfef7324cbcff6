"""Nothing cut off on Slack: long text arrives whole, in order, within Block Kit's limits,
and a retry after a part failed never posts a part twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core import OutboundMessage
from bot.storage.tables import OutboxRow
from tests.support import long_text
from tests.support.long_text import numbered
from tests.support.slack.desk import TRIAGE, slack  # noqa: F401


def words(count: int) -> str:
    """``count`` numbered words in paragraphs, with a reference, a link and & < > in them."""
    return long_text.words(count, mention="<@UAGENT>", link="https://example.com/kb?id=42&lang=en",
                           odd="a<b & c>d")


def shown(message: dict) -> str:
    """What a person reads in a Slack message: its blocks' text, else its text."""
    texts = [b["text"]["text"] for b in message.get("blocks") or []
             if b["type"] == "section" and "text" in b]
    return "\n".join(texts) if texts else message["text"]


@pytest.mark.parametrize("size", [5_000, 12_000])
async def test_a_long_reply_reaches_the_requester_whole_and_in_order(slack, size):
    asked = await slack.dm("UREQ", "Cannot print")
    [card] = slack.fake.bot_messages(TRIAGE, top_level=True)
    text = words(size // 7)
    assert len(text) >= size
    await slack.say("UAGENT", TRIAGE, text, thread_ts=card["ts"])
    relayed = [m for m in slack.fake.bot_messages("DUREQ", asked["ts"]) if numbered(shown(m))]
    read = "\n".join(shown(m) for m in relayed)
    assert numbered(read) == numbered(text)
    assert read.count("&lt;@UAGENT&gt;") + read.count("<@UAGENT>") == text.count("<@UAGENT>")
    assert read.count("https://example.com/kb?id=42&amp;lang=en") == \
        text.count("https://example.com/kb?id=42&lang=en")
    assert read.count("a&lt;b &amp; c&gt;d") == text.count("a<b & c>d")
    for message in relayed:
        assert all(len(b["text"]["text"]) <= 3000 for b in message.get("blocks") or []
                   if "text" in b)


async def test_a_message_bigger_than_one_slack_message_goes_as_several(slack):
    text = words(16_000)  # over 110,000 characters: three messages of sections
    delivered = await slack.adapter.send(OutboundMessage(channel_id="CGENERAL", text=text),
                                         idempotency_key="hd-5")
    posts = slack.fake.bot_messages("CGENERAL")
    assert len(posts) >= 3 and delivered.message_id == posts[0]["ts"]
    assert numbered("\n".join(shown(p) for p in posts)) == numbered(text)
    assert [p["metadata"]["event_payload"]["key"] for p in posts] == \
        ["hd-5"] + [f"hd-5/{i}" for i in range(1, len(posts))]


async def general_row(slack) -> OutboxRow:
    async with slack.db.unit_of_work() as uow:
        return (await uow.session.execute(select(OutboxRow).where(
            OutboxRow.payload_json.like('%"CGENERAL"%')))).scalar_one()


async def test_a_retry_posts_only_the_parts_that_did_not_go_out(slack):
    text = words(16_000)
    async with slack.db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("slack", slack.team, "Acme", slack.clock.now())
        await uow.outbox.add(workspace.id, "slack", OutboundMessage(channel_id="CGENERAL",
                                                                    text=text), slack.clock.now())
    slack.fake.fail("chat.postMessage", "internal_error", skip=1)  # the second part fails
    await slack.dispatcher.drain()
    assert len(slack.fake.bot_messages("CGENERAL")) == 1
    row = await general_row(slack)
    assert row.status == "pending" and json.loads(row.payload_json)["parts_sent"]
    slack.clock.advance(timedelta(minutes=30))
    await slack.settle()
    posts = slack.fake.bot_messages("CGENERAL")
    assert numbered("\n".join(shown(p) for p in posts)) == numbered(text)
    row = await general_row(slack)
    assert row.status == "sent" and row.result_message_id == posts[0]["ts"]


async def test_a_lost_answer_to_a_later_part_is_found_not_posted_again(slack):
    text = words(16_000)
    slack.fake.lose_response("chat.postMessage")  # the first part is posted, its answer lost
    with pytest.raises(Exception):
        await slack.adapter.send(OutboundMessage(channel_id="CGENERAL", text=text),
                                 idempotency_key="hd-6")
    await slack.adapter.send(OutboundMessage(channel_id="CGENERAL", text=text),
                             idempotency_key="hd-6", attempt=2)
    posts = slack.fake.bot_messages("CGENERAL")
    assert numbered("\n".join(shown(p) for p in posts)) == numbered(text)
