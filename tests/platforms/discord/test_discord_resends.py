"""Re-attempts of the sends Discord takes no nonce for: forum posts the desk starts and
private answers to interactions. Neither is repeated by discord.py on a 5xx; a forum
post is looked for before it is started again; an answer is sent chunk by chunk, and
the thinking state is edited again rather than followed up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core import DeliveryError, OutboundMessage
from bot.storage.tables import OutboxRow
from tests.support.discord.server import ephemeral_texts
from tests.support.discord.desk import DiscordDesk

THREADS = r"/channels/{}/threads"
WEBHOOK = r"/webhooks/\d+/[^/]+"


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        yield desk


def panel_ticket(world, number: int = 2) -> OutboundMessage:
    """The acknowledgement that starts a forum post for a ticket opened by the panel."""
    return OutboundMessage(channel_id=world.forum, text=f"Opened #{number}",
                           ticket_number=number)


def bot_posts(fake, world) -> list[dict]:
    return [c for c in fake.channels.values()
            if c.get("parent_id") == world.forum and c.get("owner_id") == fake.bot["id"]]


async def test_a_forum_post_is_started_once_when_discord_answers_500(fake, world, desk):
    fake.fail("POST", THREADS.format(world.forum), 500, applied=True)
    with pytest.raises(DeliveryError) as raised:
        await desk.adapter.send(panel_ticket(world), idempotency_key="hd-5")
    assert not raised.value.permanent
    assert len(fake.calls_to("POST", THREADS.format(world.forum))) == 1  # discord.py kept out
    again = await desk.adapter.send(panel_ticket(world), idempotency_key="hd-5", attempt=2)
    [post] = bot_posts(fake, world)
    assert again.message_id == again.thread_id == post["id"]
    assert len(fake.calls_to("POST", THREADS.format(world.forum))) == 1


async def test_a_post_the_gateway_has_not_told_of_is_found_over_rest(fake, world, desk):
    fake.muted.add("THREAD_CREATE")  # as if another process had started it
    fake.fail("POST", THREADS.format(world.forum), 502, applied=True)
    with pytest.raises(DeliveryError):
        await desk.adapter.send(panel_ticket(world), idempotency_key="hd-5")
    again = await desk.adapter.send(panel_ticket(world), idempotency_key="hd-5", attempt=3)
    assert fake.calls_to("GET", rf"/guilds/{world.guild}/threads/active")
    assert [p["id"] for p in bot_posts(fake, world)] == [again.message_id]


async def test_another_tickets_post_is_not_taken_for_this_one(fake, world, desk):
    other = await desk.adapter.send(panel_ticket(world, 3), idempotency_key="hd-4")
    mine = await desk.adapter.send(panel_ticket(world, 2), idempotency_key="hd-5", attempt=2)
    assert mine.message_id != other.message_id and len(bot_posts(fake, world)) == 2
    assert fake.channels[mine.message_id]["name"] == "Ticket #2"


async def test_the_outbox_re_attempt_of_a_lost_forum_post_makes_no_second_post(fake, world,
                                                                              desk):
    async with desk.db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("discord", world.guild, "Acme", desk.clock.now())
        await uow.outbox.add(workspace.id, "discord", panel_ticket(world), desk.clock.now())
    fake.fail("POST", THREADS.format(world.forum), 504, applied=True)
    assert await desk.dispatcher.drain() == 0
    await desk.advance(timedelta(minutes=30))
    [post] = bot_posts(fake, world)
    async with desk.db.unit_of_work() as uow:
        row = (await uow.session.execute(select(OutboxRow))).scalar_one()
    assert row.status == "sent" and row.attempts == 2 and row.result_message_id == post["id"]
    assert fake.messages[post["id"]]["content"] == "Opened #2"
    first = fake.calls_to("POST", THREADS.format(world.forum))[0].body["message"]
    assert first["allowed_mentions"]["parse"] == []


async def answered_command(fake, world, desk):
    run = fake.command(world.alice, world.general, "/ticket mine")
    await desk.step()
    token = f"{fake.application_id}:{run.id}:{run.token}"
    return run, token


async def test_a_private_answer_re_attempt_sends_only_the_missing_chunk(fake, world, desk):
    run, token = await answered_command(fake, world, desk)
    text = ("word " * 300 + "\n") * 2  # two chunks
    private = OutboundMessage(channel_id=world.general, text=text, ephemeral_to=world.alice,
                              audience="person", reply_token=token)
    fake.fail("POST", WEBHOOK, 500, skip=1)  # the first chunk lands, the second fails
    with pytest.raises(DeliveryError):
        await desk.adapter.send(private, idempotency_key="hd-8")
    delivered = await desk.adapter.send(private, idempotency_key="hd-8", attempt=2)
    chunks = [m["content"] for m in run.followups]
    assert len(chunks) == 2 and chunks[0] != chunks[1]
    assert delivered.message_id == run.followups[0]["id"]
    assert len(fake.calls_to("POST", WEBHOOK)) == 3  # no repeat by discord.py


async def test_a_failed_first_answer_edits_the_thinking_state_again(fake, world, desk):
    fake.fail("PATCH", WEBHOOK + "/messages/@original", 503, applied=True)
    run = fake.command(world.alice, world.general, "/ticket mine")
    await desk.step()  # the answer's first attempt fails after Discord applied it
    await desk.advance(timedelta(seconds=30))
    answer = "You have no tickets yet. Write to me any time and I'll open one."
    # Shown once: either the thinking state edited again, or (had it been cleared
    # meanwhile) one follow-up; never the edit plus a follow-up.
    assert ephemeral_texts(run) == [answer]


@pytest.mark.parametrize("retry_after, via, waited", [(0.05, True, True), (120, True, False),
                                                      (5, False, False)])
async def test_rate_limits_on_a_follow_up(fake, world, desk, retry_after, via, waited):
    run, token = await answered_command(fake, world, desk)
    private = OutboundMessage(channel_id=world.general, text="Noted", ephemeral_to=world.alice,
                              audience="person", reply_token=token)
    fake.fail("POST", WEBHOOK, 429, retry_after=retry_after, via=via)
    if waited:
        await desk.adapter.send(private, idempotency_key="hd-9")
        assert [m["content"] for m in run.followups] == ["Noted"]
        return
    with pytest.raises(DeliveryError) as raised:
        await desk.adapter.send(private, idempotency_key="hd-9")
    assert raised.value.retry_after == retry_after and run.followups == []
