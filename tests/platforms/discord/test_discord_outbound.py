"""What the Discord adapter sends: idempotent posts, rate limits and failures as the
outbox understands them, long text, cards, DMs, forums and the invite URL."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from bot.core import Button, DeliveryError, FormField, OutboundMessage
from bot.platforms.discord.adapter import PERMISSIONS, application_id_from_token, invite_url
from bot.storage.tables import OutboxRow
from tests.support.discord.server import FakeDiscord
from tests.support.discord.desk import DiscordDesk, World


@pytest.fixture
async def fake():
    fake = await FakeDiscord(echo_bot_messages=False).start()
    yield fake
    await fake.stop()


@pytest.fixture
def world(fake):
    return World(fake)


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        yield desk


def say(channel: str, text: str = "Hello", **fields) -> OutboundMessage:
    return OutboundMessage(channel_id=channel, text=text, **fields)


async def test_a_second_attempt_with_the_same_key_returns_the_first_message(fake, world, desk):
    first = await desk.adapter.send(say(world.general), idempotency_key="hd-7")
    again = await desk.adapter.send(say(world.general), idempotency_key="hd-7", attempt=2)
    assert first.message_id == again.message_id
    assert len(fake.posts_in(world.general)) == 1
    assert all(c.body["nonce"] == "hd-7" and c.body["enforce_nonce"]
               for c in fake.calls_to("POST", rf"/channels/{world.general}/messages"))


async def test_nonces_fit_discord_limit(fake, world, desk):
    await desk.adapter.send(say(world.general), idempotency_key="hd-card-" + "9" * 40)
    nonce = fake.calls_to("POST", r"/channels/\d+/messages")[0].body["nonce"]
    assert len(nonce) <= 25


async def test_a_lost_response_is_retried_by_the_outbox_without_a_second_post(fake, world, desk):
    async with desk.db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("discord", world.guild, "Acme", desk.clock.now())
        await uow.outbox.add(workspace.id, "discord", say(world.general, "Server is back"),
                             desk.clock.now())
    fake.fail("POST", rf"/channels/{world.general}/messages", 503, applied=True)
    assert await desk.dispatcher.drain() == 0
    await desk.advance(timedelta(minutes=30))
    assert len(fake.calls_to("POST", rf"/channels/{world.general}/messages")) == 2
    assert [m["content"] for m in fake.posts_in(world.general)] == ["Server is back"]
    async with desk.db.unit_of_work() as uow:
        row = (await uow.session.execute(select(OutboxRow))).scalar_one()
    assert row.status == "sent" and row.attempts == 2


async def test_a_short_rate_limit_is_waited_out_by_discord_py(fake, world, desk):
    fake.fail("POST", rf"/channels/{world.general}/messages", 429, retry_after=0.05)
    delivered = await desk.adapter.send(say(world.general), idempotency_key="hd-1")
    assert delivered.message_id == fake.posts_in(world.general)[0]["id"]
    assert len(fake.calls_to("POST", rf"/channels/{world.general}/messages")) == 2


async def test_a_long_rate_limit_goes_back_to_the_outbox(fake, world, desk):
    fake.fail("POST", rf"/channels/{world.general}/messages", 429, retry_after=120)
    with pytest.raises(DeliveryError) as raised:
        await desk.adapter.send(say(world.general), idempotency_key="hd-1")
    assert raised.value.retry_after == 120 and not raised.value.permanent


async def test_a_429_without_via_is_cloudflare_and_also_goes_back(fake, world, desk):
    fake.fail("POST", rf"/channels/{world.general}/messages", 429, retry_after=5, via=False)
    with pytest.raises(DeliveryError) as raised:
        await desk.adapter.send(say(world.general), idempotency_key="hd-1")
    assert raised.value.retry_after == 5


@pytest.mark.parametrize("status, code", [(403, 50001), (404, 10003)])
async def test_missing_access_or_an_unknown_channel_is_permanent(fake, world, desk, status, code):
    fake.fail("POST", rf"/channels/{world.general}/messages", status, code=code)
    with pytest.raises(DeliveryError) as raised:
        await desk.adapter.send(say(world.general), idempotency_key="hd-1")
    assert raised.value.permanent


async def test_long_text_is_split_and_the_first_part_is_the_delivery(fake, world, desk):
    text = ("word " * 300 + "\n") * 2
    delivered = await desk.adapter.send(say(world.general, text), idempotency_key="hd-3")
    parts = fake.posts_in(world.general)
    assert len(parts) == 2 and delivered.message_id == parts[0]["id"]
    assert len({m["nonce"] for m in parts}) == 2


async def test_a_card_is_an_embed_with_buttons_that_route_themselves(fake, world, desk):
    card = say(world.triage, "Printer jammed", title="#4 · Printer", fields=(("Status", "Open"),),
               buttons=(Button("Claim", "card.claim", "4", "primary"),
                        Button("Reply", "card.reply", "4",
                               form=(FormField("text", "Reply to the requester", multiline=True),))))
    delivered = await desk.adapter.send(card, idempotency_key="hd-card-4")
    posted = fake.messages[delivered.message_id]
    assert posted["content"] == "" and posted["embeds"][0]["description"] == "Printer jammed"
    assert [b["custom_id"] for b in fake.buttons(delivered.message_id)] == \
        ["hd:card.claim:4", "hdf:card.reply:text~m:4"]
    edited = OutboundMessage(**{**card.to_dict(), "buttons": (), "edit_of": delivered.message_id,
                                "fields": (("Status", "Resolved"),)})
    await desk.adapter.send(edited, idempotency_key="hd-9")
    assert posted["embeds"][0]["fields"][0]["value"] == "Resolved" and posted["components"] == []


async def test_a_direct_message_opens_the_dm_once(fake, world, desk):
    for key in ("hd-1", "hd-2"):
        await desk.adapter.send(OutboundMessage(channel_id="", direct_to=world.sam, text="Hi",
                                                audience="person"), idempotency_key=key)
    assert len(fake.calls_to("POST", r"/users/@me/channels")) == 1
    assert len(fake.posts_in(fake.dm_channels[world.sam])) == 2


async def test_the_home_view_has_no_discord_surface(fake, world, desk):
    before = len(fake.calls)
    delivered = await desk.adapter.send(OutboundMessage(channel_id="", direct_to=world.sam,
                                                        audience="home", text="Your queue"),
                                        idempotency_key="hd-1")
    assert delivered.message_id == "" and len(fake.calls) == before


async def test_a_ticket_started_in_a_forum_is_a_new_post(fake, world, desk):
    delivered = await desk.adapter.send(say(world.forum, "Opened #2", ticket_number=2),
                                        idempotency_key="hd-5")
    post = fake.channels[delivered.message_id]
    assert post["parent_id"] == world.forum and post["name"] == "Ticket #2"
    assert delivered.thread_id == delivered.message_id
    assert fake.messages[delivered.message_id]["content"] == "Opened #2"


async def test_the_invite_asks_for_exactly_what_the_adapter_uses():
    url = urlparse(invite_url("123"))
    query = parse_qs(url.query)
    assert query["client_id"] == ["123"]
    assert query["scope"] == ["bot applications.commands"]
    assert int(query["permissions"][0]) == PERMISSIONS.value
    assert {name for name, on in PERMISSIONS if on} == {
        "read_messages", "send_messages", "send_messages_in_threads", "create_public_threads",
        "embed_links", "read_message_history"}


def test_the_application_id_is_read_from_the_token():
    token = base64.urlsafe_b64encode(b"1234567890123456789").decode().rstrip("=") + ".Gx.abc"
    assert application_id_from_token(token) == "1234567890123456789"
    assert application_id_from_token("not-a-token") is None


@pytest.mark.parametrize("channel", ["", "D-alice"])
async def test_a_message_with_no_discord_channel_is_permanently_undeliverable(desk, channel):
    with pytest.raises(DeliveryError) as raised:
        await desk.adapter.send(say(channel), idempotency_key="hd-1")
    assert raised.value.permanent
