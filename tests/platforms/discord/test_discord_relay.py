"""The ticket's agent thread and the requester's thread (or DM) talk through the desk,
nothing the desk repeats pings anyone, and promises post on their own when due."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.discord.desk import DiscordDesk


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


async def agent_thread(fake, world) -> str:
    """Sam opens a thread on the ticket's card, as people do in Discord; returns its id."""
    card = fake.posts_in(world.triage)[0]
    if card["id"] not in fake.channels:
        fake.create_thread(world.triage, card["id"], "Ticket #1", world.sam)
    return card["id"]


async def test_an_agents_words_in_the_card_thread_reach_the_requesters_thread(fake, world, desk):
    asked = fake.say(world.alice, world.help, "Teams crashes on start")
    await desk.step()
    thread = await agent_thread(fake, world)
    fake.say(world.sam, thread, "Please clear the cache and try again")
    await desk.step()
    assert any("clear the cache" in m["content"] for m in fake.posts_in(asked["id"]))


async def test_the_requesters_words_reach_the_card_thread_which_the_bot_creates(fake, world, desk):
    asked = fake.say(world.alice, world.help, "Teams crashes on start")
    await desk.step()
    fake.say(world.alice, asked["id"], "It started after the update")
    await desk.step()
    card = fake.posts_in(world.triage)[0]
    assert fake.calls_to("POST", rf"/channels/{world.triage}/messages/{card['id']}/threads")
    assert any("after the update" in m["content"] for m in fake.posts_in(card["id"]))


async def test_notes_stay_with_the_agents(fake, world, desk):
    asked = fake.say(world.alice, world.help, "Teams crashes on start")
    await desk.step()
    before = len(fake.posts_in(asked["id"]))
    fake.say(world.sam, await agent_thread(fake, world), "note: probably the GPU driver")
    await desk.step()
    assert len(fake.posts_in(asked["id"])) == before


async def test_relay_to_and_from_a_dm(fake, world, desk):
    fake.dm(world.alice, "Cannot print")
    await desk.step()
    dm = fake.dm_channels[world.alice]
    ack = fake.posts_in(dm)[0]
    fake.say(world.sam, await agent_thread(fake, world), "Which printer?")
    await desk.step()
    answer = fake.posts_in(dm)[-1]
    assert "Which printer?" in answer["content"]
    assert answer["message_reference"]["message_id"] == ack["message_reference"]["message_id"]
    fake.dm(world.alice, "The one by the kitchen", reply_to=answer["id"])
    await desk.step()
    card = fake.posts_in(world.triage)[0]
    assert any("kitchen" in m["content"] for m in fake.posts_in(card["id"]))


async def test_nothing_the_desk_repeats_pings_anyone(fake, world, desk):
    asked = fake.say(world.alice, world.help,
                     f"@everyone @here <@&{world.guild}> <@{world.sam}> the VPN is down")
    await desk.step()
    fake.say(world.alice, asked["id"], "@everyone still down")
    await desk.step()
    card = fake.posts_in(world.triage)[0]
    relayed = [m for m in fake.posts_in(card["id"]) if "still down" in m["content"]]
    assert relayed and "@everyone" not in relayed[0]["content"].replace("@\u200beveryone", "")
    sends = (fake.calls_to("POST", r"/channels/\d+/messages")
             + fake.calls_to("PATCH", r"/channels/\d+/messages/\d+")
             + fake.calls_to("POST", r"/webhooks/\d+/[^/]+"))
    assert len(sends) >= 4 and all(pings_nobody(c.body.get("allowed_mentions")) for c in sends)


def pings_nobody(allowed: dict | None) -> bool:
    """Discord's allowed_mentions that let no @everyone, @here, role or user ping."""
    return (allowed is not None and allowed.get("parse") == [] and not allowed.get("users")
            and not allowed.get("roles") and not allowed.get("replied_user"))


async def test_a_promise_that_falls_due_posts_in_the_requesters_thread(fake, world, desk):
    asked = fake.say(world.alice, world.help, "Monitor flickers")
    await desk.step()
    before = len(fake.posts_in(asked["id"]))
    await desk.settle()
    assert len(fake.posts_in(asked["id"])) == before  # nothing is due yet
    await desk.advance(timedelta(days=3))
    update = fake.posts_in(asked["id"])[before:]
    assert update and "#1" in update[0]["content"] and "Sorry" in update[0]["content"]
    card = fake.posts_in(world.triage)[0]
    assert any("Could someone claim it?" in m["content"] for m in fake.posts_in(card["id"]))
