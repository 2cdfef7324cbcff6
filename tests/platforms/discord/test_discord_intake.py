"""Every way a ticket opens on Discord, through discord.py against the fake Discord."""

from __future__ import annotations

import pytest

from tests.support.discord.desk import DiscordDesk


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help, world.forum), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


def card_titles(fake, world) -> list[str]:
    return [m["embeds"][0]["title"] for m in fake.posts_in(world.triage)]


async def test_a_dm_opens_a_ticket_answered_in_reply_to_it(fake, world, desk):
    asked = fake.dm(world.alice, "My VPN keeps dropping")
    await desk.step()
    ack = fake.posts_in(fake.dm_channels[world.alice])[0]
    assert "I've opened ticket #1" in ack["content"]
    assert ack["message_reference"]["message_id"] == asked["id"]
    assert "#1" in card_titles(fake, world)[0]


async def test_a_reply_to_the_bots_dm_goes_to_the_same_ticket(fake, world, desk):
    fake.dm(world.alice, "Printer is jammed")
    await desk.step()
    ack = fake.posts_in(fake.dm_channels[world.alice])[0]
    fake.dm(world.alice, "It is the one on floor 2", reply_to=ack["id"])
    await desk.step()
    card = fake.posts_in(world.triage)[0]
    relayed = fake.posts_in(card["id"])
    assert any("floor 2" in m["content"] for m in relayed)
    assert len(card_titles(fake, world)) == 1


async def test_a_message_in_an_intake_channel_gets_a_thread_of_its_own(fake, world, desk):
    asked = fake.say(world.alice, world.help, "Laptop will not boot")
    await desk.step()
    threads = fake.calls_to("POST", rf"/channels/{world.help}/messages/{asked['id']}/threads")
    assert threads and threads[0].body["name"] == "Ticket #1"
    ack = fake.posts_in(asked["id"])[0]
    assert "#1" in ack["content"]
    assert fake.channels[asked["id"]]["parent_id"] == world.help


async def test_a_forum_post_is_a_ticket_and_its_title_the_subject(fake, world, desk):
    post = fake.forum_post(world.alice, world.forum, "Wi-Fi in room 4", "It drops every hour")
    await desk.step()
    assert "#1" in fake.posts_in(post["id"])[0]["content"]
    assert not fake.calls_to("POST", r"/channels/\d+/messages/\d+/threads")
    assert "Wi-Fi in room 4" in card_titles(fake, world)[0]


async def test_a_mention_anywhere_opens_a_ticket(fake, world, desk):
    asked = fake.say(world.alice, world.general, "can someone reset my password?",
                     mention_bot=True)
    await desk.step()
    ack = fake.posts_in(asked["id"])[0]
    assert "#1" in ack["content"]
    assert "<@" not in card_titles(fake, world)[0]


async def test_chatter_outside_intake_channels_opens_nothing(fake, world, desk):
    fake.say(world.alice, world.general, "lunch anyone?")
    await desk.step()
    assert fake.posts_in(world.triage) == []


async def test_the_ticket_emoji_opens_a_ticket_for_the_messages_author(fake, world, desk):
    said = fake.say(world.alice, world.general, "Outlook keeps asking for my password")
    fake.react(world.sam, said["id"], "👍")  # means nothing to the desk: never passed on
    fake.react(world.sam, said["id"], "🎫")
    await desk.handled(2)
    ack = fake.posts_in(said["id"])[0]
    assert "#1" in ack["content"] and "Alice" in ack["content"]
    assert fake.calls_to("GET", rf"/channels/{world.general}/messages/{said['id']}")
    assert len(desk.sink.events) == 2  # the message, and the 🎫 only


async def test_ticket_new_posts_the_acknowledgement_and_threads_under_it(fake, world, desk):
    run = fake.command(world.alice, world.general, "/ticket new Screen flickers")
    await desk.step()
    assert run.response["type"] == 5 and run.response["data"]["flags"] == 64
    ack = fake.posts_in(world.general)[0]
    assert "#1" in ack["content"]
    # The acknowledgement is the requester's thread: an agent's reply lands under it.
    await _agent_replies_from_card(fake, world, desk, "Try another cable")
    assert fake.channels[ack["id"]]["parent_id"] == world.general
    assert any("Try another cable" in m["content"] for m in fake.posts_in(ack["id"]))


async def _agent_replies_from_card(fake, world, desk, text):
    card = fake.posts_in(world.triage)[0]
    run = fake.press(world.sam, card["id"], "Reply")
    await fake.wait_for(lambda: run.response)
    fake.submit(world.sam, run, {"text": text})
    await desk.step()


async def test_the_panel_opens_a_ticket_from_its_modal(fake, world, desk):
    run = fake.command(world.ada, world.general, "/helpdesk panel")
    await desk.step()
    panel = fake.posts_in(world.general)[0]
    pressed = fake.press(world.alice, panel["id"], fake.buttons(panel["id"])[0]["label"])
    await fake.wait_for(lambda: pressed.response)
    assert pressed.response["type"] == 9
    fake.submit(world.alice, pressed, {"text": "Need access to the finance share"})
    await desk.step()
    ack = fake.posts_in(world.general)[-1]
    assert "#1" in ack["content"] and "finance share" in ack["content"]
    assert run.original["edited"]  # the admin was told, privately, that the panel is up


async def test_a_new_dm_with_a_ticket_open_asks_same_or_new_with_buttons(fake, world, desk):
    fake.dm(world.alice, "VPN drops")
    await desk.step()
    again = fake.dm(world.alice, "Also my mouse is broken")
    await desk.step()
    question = fake.posts_in(fake.dm_channels[world.alice])[-1]
    assert question["message_reference"]["message_id"] == again["id"]
    pressed = fake.press(world.alice, question["id"], fake.buttons(question["id"])[1]["label"])
    await desk.step()
    assert pressed.response == {"type": 6}
    assert len(fake.posts_in(world.triage)) == 2
    assert "#2" in fake.posts_in(fake.dm_channels[world.alice])[-1]["content"]
