"""Slash commands, buttons and modals on Discord: acknowledged in time, answered
privately, and still working after a restart."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.discord.server import ephemeral_texts
from tests.support.discord.desk import DiscordDesk


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


async def open_ticket(fake, world, desk, text="VPN drops every hour") -> dict:
    asked = fake.say(world.alice, world.help, text)
    await desk.step()
    return asked


async def test_commands_are_synced_per_guild_with_the_desks_words(fake, world, desk):
    synced = {c["name"]: c for c in fake.commands[world.guild]}
    words = {o["name"] for o in synced["ticket"]["options"]}
    assert {"new", "claim", "show", "mine", "resolve", "help"} <= words
    assert {"panel", "agents", "intake", "triage"} <= {o["name"] for o in synced["helpdesk"]["options"]}
    identify = fake.identified[-1]
    assert identify["intents"] & (1 << 15)  # message content


async def test_a_command_is_acknowledged_before_the_desk_starts_on_it(fake, world, desk):
    gate, router = asyncio.Event(), desk.sink.router

    async def held(event):
        await gate.wait()
        await router(event)

    desk.sink.router = held
    run = fake.command(world.alice, world.general, "/ticket mine")
    await fake.wait_for(lambda: run.response)  # acknowledged while the desk is held
    assert run.acked_at - run.dispatched_at < 3
    assert run.response == {"type": 5, "data": {"flags": 64}}
    gate.set()
    await desk.step()
    assert ephemeral_texts(run) == ["You have no tickets yet. Write to me any time and I'll open one."]
    assert fake.posts_in(world.general) == []


async def test_lists_help_and_refusals_are_private(fake, world, desk):
    await open_ticket(fake, world, desk)
    mine = fake.command(world.alice, world.general, "/ticket mine")
    await desk.step()
    refused = fake.command(world.alice, world.general, "/ticket claim 1")
    await desk.step()
    helped = fake.command(world.alice, world.general, "/ticket help")
    await desk.step()
    assert "#1" in ephemeral_texts(mine)[0]
    assert ephemeral_texts(refused)[0].startswith("Sorry, claiming tickets is for agents")
    assert "/ticket" in ephemeral_texts(helped)[0]
    assert fake.posts_in(world.general) == []


async def test_an_agent_claims_with_a_command_and_the_card_is_edited_in_place(fake, world, desk):
    asked = await open_ticket(fake, world, desk)
    card = fake.posts_in(world.triage)[0]
    run = fake.command(world.sam, world.triage, "/ticket claim 1")
    await desk.step()
    assert "You now own #1" in ephemeral_texts(run)[0]
    edits = fake.calls_to("PATCH", rf"/channels/{world.triage}/messages/{card['id']}")
    assert edits and fake.messages[card["id"]]["embeds"][0]["fields"][1]["value"] == "Sam"
    assert len(fake.posts_in(world.triage)) == 1
    assert any("Sam" in m["content"] for m in fake.posts_in(asked["id"]))


async def test_admins_are_members_with_manage_server(fake, world, desk):
    refused = fake.command(world.alice, world.general, f"/helpdesk agents add <@{world.alice}>")
    await desk.step()
    granted = fake.command(world.ada, world.general, f"/helpdesk agents add <@{world.alice}>")
    await desk.step()
    assert ephemeral_texts(refused)[0].startswith("Sorry")
    assert ephemeral_texts(granted)[0].startswith("Done:")


async def test_helpdesk_admins_may_name_discord_users(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake, admins=("U-slack-admin", world.alice)) as desk:
        run = fake.command(world.alice, world.general, f"/helpdesk triage <#{world.triage}>")
        await desk.step()
        assert ephemeral_texts(run) == [f"<#{world.triage}> is now the desk's triage channel."]


async def test_the_desk_set_up_by_commands_takes_tickets(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        for line in (f"/helpdesk intake <#{world.help}>", f"/helpdesk triage <#{world.triage}>",
                     f"/helpdesk agents add <@{world.sam}>"):
            fake.command(world.ada, world.general, line)
            await desk.step()
        await open_ticket(fake, world, desk)
        assert "#1" in fake.posts_in(world.triage)[0]["embeds"][0]["title"]


async def test_card_buttons_keep_working_after_a_restart(fake, world, desk):
    asked = await open_ticket(fake, world, desk)
    card = fake.posts_in(world.triage)[0]
    await desk.restart()
    assert len(fake.identified) == 2
    pressed = fake.press(world.sam, card["id"], "Claim")
    await desk.step()
    assert pressed.response == {"type": 6}
    assert any("Sam" in m["content"] for m in fake.posts_in(asked["id"]))
    assert "You now own #1" in ephemeral_texts(pressed)[0]
    # A form button after the restart still opens its modal and completes the press.
    reply = fake.press(world.sam, card["id"], "Reply")
    await fake.wait_for(lambda: reply.response)
    assert reply.response["type"] == 9
    fake.submit(world.sam, reply, {"text": "Restarted the VPN concentrator"})
    await desk.step()
    assert any("concentrator" in m["content"] for m in fake.posts_in(asked["id"]))


async def test_a_press_by_a_requester_is_refused_privately(fake, world, desk):
    await open_ticket(fake, world, desk)
    card = fake.posts_in(world.triage)[0]
    pressed = fake.press(world.alice, card["id"], "Claim")
    await desk.step()
    assert ephemeral_texts(pressed)[0].startswith("Sorry")


async def test_thinking_is_cleared_when_the_answer_is_public(fake, world, desk):
    run = fake.command(world.alice, world.general, "/ticket new Mouse is dead")
    await desk.step()
    await fake.wait_for(lambda: fake.calls_to("DELETE", r"/webhooks/\d+/[^/]+/messages/@original"))
    assert run.original["deleted"]


async def test_an_expired_interaction_is_answered_by_dm(fake, world, desk):
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=20)
    run = fake.command(world.alice, world.general, "/ticket mine", at=long_ago)
    await desk.step()
    assert ephemeral_texts(run) == []
    dm = fake.posts_in(fake.dm_channels[world.alice])
    assert dm and "no tickets yet" in dm[0]["content"]


async def test_a_token_that_died_early_falls_back_to_dm(fake, world, desk):
    fake.fail("PATCH", r"/webhooks/.*", 404, code=10015)
    fake.fail("POST", r"/webhooks/.*", 404, code=10015)
    fake.command(world.alice, world.general, "/ticket mine")
    await desk.step()
    assert "no tickets yet" in fake.posts_in(fake.dm_channels[world.alice])[0]["content"]


async def test_every_interaction_was_acknowledged_within_three_seconds(fake, world, desk):
    await open_ticket(fake, world, desk)
    card = fake.posts_in(world.triage)[0]
    runs = [fake.command(world.alice, world.general, "/ticket mine"),
            fake.press(world.sam, card["id"], "Claim"),
            fake.press(world.sam, card["id"], "Resolve")]
    await desk.handled(3)
    await fake.wait_for(lambda: all(r.response for r in runs))
    assert all(r.acked_at - r.dispatched_at < 3 for r in runs)
