"""Nothing cut off on Discord: long text arrives whole, in order, within Discord's limits,
and a retry after a part failed never sends a part twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core import Button, OutboundMessage
from bot.storage.tables import OutboxRow
from tests.support import long_text
from tests.support.discord.desk import DiscordDesk
from tests.support.long_text import numbered


def words(count: int) -> str:
    """``count`` numbered words in paragraphs, with a mention and a link among them."""
    return long_text.words(count, mention="<@123456789012345678>",
                           link="https://example.com/kb/article?id=42&lang=en")


def shown(post: dict) -> str:
    """What a person reads in a post: its content and its embeds' text."""
    parts = [post.get("content") or ""]
    for embed in post.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


@pytest.mark.parametrize("size", [5_000, 12_000])
async def test_a_long_reply_reaches_the_requester_whole_and_in_order(fake, world, desk, size):
    asked = fake.say(world.alice, world.help, "Teams crashes on start")
    await desk.step()
    card = fake.posts_in(world.triage)[0]
    fake.create_thread(world.triage, card["id"], "Ticket #1", world.sam)
    text = words(size // 7)
    assert len(text) >= size * 0.95
    fake.say(world.sam, card["id"], text)
    await desk.step()
    posts = fake.posts_in(asked["id"])
    relayed = [p for p in posts if numbered(p["content"])]
    assert len(relayed) >= 3 and all(len(p["content"]) <= 2000 for p in relayed)
    assert numbered("\n".join(p["content"] for p in relayed)) == numbered(text)
    joined = "\n".join(p["content"] for p in relayed)
    assert joined.count("<@123456789012345678>") == text.count("<@123456789012345678>")
    assert joined.count("https://example.com/kb/article?id=42&lang=en") == \
        text.count("https://example.com/kb/article?id=42&lang=en")


async def test_a_long_card_keeps_its_title_first_and_its_fields_and_buttons_last(fake, world,
                                                                                 desk):
    text = words(1_700)  # about 12,000 characters
    card = OutboundMessage(channel_id=world.general, text=text, title="#4 · Printer",
                           fields=(("Status", "Open"), ("Owner", "Sam")),
                           buttons=(Button("Claim", "card.claim", "4"),))
    delivered = await desk.adapter.send(card, idempotency_key="hd-40")
    posts = fake.posts_in(world.general)
    assert delivered.message_id == posts[0]["id"] and len(posts) >= 3
    assert posts[0]["embeds"][0]["title"] == "#4 · Printer"
    assert all(len(e.get("description") or "") <= 4096 for p in posts for e in p["embeds"])
    assert numbered("\n".join(shown(p) for p in posts)) == numbered(text)
    assert [f["value"] for f in posts[-1]["embeds"][-1]["fields"]] == ["Open", "Sam"]
    assert posts[-1]["components"] and not any(p["components"] for p in posts[:-1])


async def test_a_retry_sends_only_the_parts_that_did_not_go_out(fake, world, desk):
    text = words(1_700)
    async with desk.db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("discord", world.guild, "Acme", desk.clock.now())
        await uow.outbox.add(workspace.id, "discord",
                             OutboundMessage(channel_id=world.general, text=text),
                             desk.clock.now())
    # The third part fails; the first two are on Discord.
    fake.fail("POST", rf"/channels/{world.general}/messages", 503, skip=2)
    assert await desk.dispatcher.drain() == 0
    assert len(fake.posts_in(world.general)) == 2
    async with desk.db.unit_of_work() as uow:
        row = (await uow.session.execute(select(OutboxRow))).scalar_one()
    assert row.status == "pending" and json.loads(row.payload_json)["parts_sent"]
    # Long after Discord's nonce window: only the record can keep the parts single.
    fake.nonces.clear()
    await desk.advance(timedelta(minutes=30))
    posts = fake.posts_in(world.general)
    assert numbered("\n".join(p["content"] for p in posts)) == numbered(text)
    async with desk.db.unit_of_work() as uow:
        row = (await uow.session.execute(select(OutboxRow))).scalar_one()
    assert row.status == "sent" and row.result_message_id == posts[0]["id"]


async def test_a_long_first_post_in_a_forum_continues_in_its_thread(fake, world, desk):
    text = words(800)
    delivered = await desk.adapter.send(
        OutboundMessage(channel_id=world.forum, text=text, ticket_number=7),
        idempotency_key="hd-70")
    posts = fake.posts_in(delivered.thread_id)
    assert numbered("\n".join(p["content"] for p in posts)) == numbered(text)
    assert all(len(p["content"]) <= 2000 for p in posts)
