"""``/kb add`` and ``/kb edit KB-N`` on Discord: an agent's command is answered with a
modal at once (the edit filled in with the article), whose submission saves through the
desk's text-form code; a requester's command is deferred and refused politely; the text
options still work."""

from __future__ import annotations

import pytest

from tests.support.discord.desk import DiscordDesk
from tests.support.discord.server import ephemeral_texts


@pytest.fixture
async def desk(db_url, fake, world):
    async with DiscordDesk(db_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


def modal_inputs(interaction) -> dict[str, dict]:
    """The text inputs of the modal the bot answered ``interaction`` with, by name."""
    assert interaction.response["type"] == 9
    inputs = {}
    for row in interaction.response["data"]["components"]:
        inner = row.get("component") or row["components"][0]
        inputs[inner["custom_id"]] = inner
    return inputs


async def articles(desk, world) -> list:
    async with desk.db.reading() as uow:
        workspace = await uow.workspaces.find("discord", world.guild)
        return await uow.kb.all(workspace.id)


async def test_kb_add_answers_with_a_modal_that_saves_the_article(fake, world, desk):
    run = fake.command(world.sam, world.general, "/kb add")
    await fake.wait_for(lambda: run.response)
    assert run.response["data"]["title"] == "New article"
    inputs = modal_inputs(run)
    assert list(inputs) == ["title", "text", "tags"]
    assert inputs["text"]["style"] == 2 and inputs["text"]["max_length"] == 3000
    assert not inputs["tags"]["required"] and not inputs["title"].get("value")
    sent = fake.submit(world.sam, run, {"title": "Toner low", "text": "Shake the cartridge.",
                                        "tags": "printer toner"})
    await desk.step()
    assert ephemeral_texts(sent) == ["Added KB-1: “Toner low”."]
    [article] = await articles(desk, world)
    assert (article.title, article.body, article.tags) == ("Toner low", "Shake the cartridge.",
                                                           ("printer", "toner"))
    assert fake.posts_in(world.general) == []  # private, never in the channel


async def test_kb_edit_opens_the_article_filled_in(fake, world, desk):
    added = fake.command(world.sam, world.general, "/kb add", title="VPN drops",
                         text="Reconnect the client. #vpn")
    await desk.step()
    assert ephemeral_texts(added) == ["Added KB-1: “VPN drops”."]
    run = fake.command(world.sam, world.general, "/kb edit KB-1")
    await fake.wait_for(lambda: run.response)
    assert run.response["data"]["title"] == "Edit KB-1"
    inputs = modal_inputs(run)
    assert (inputs["title"]["value"], inputs["text"]["value"], inputs["tags"]["value"]) == (
        "VPN drops", "Reconnect the client.", "vpn")
    sent = fake.submit(world.sam, run, {"title": "The VPN keeps dropping",
                                        "text": "Update the client.", "tags": "vpn, remote"})
    await desk.step()
    assert ephemeral_texts(sent) == ["Saved KB-1: “The VPN keeps dropping”."]
    [article] = await articles(desk, world)
    assert (article.title, article.tags) == ("The VPN keeps dropping", ("vpn", "remote"))


async def test_a_requester_is_refused_politely_and_gets_no_modal(fake, world, desk):
    run = fake.command(world.alice, world.general, "/kb add")
    await desk.step()
    assert run.response == {"type": 5, "data": {"flags": 64}}  # deferred, no modal
    [refusal] = ephemeral_texts(run)
    assert refusal.startswith("Sorry") and "agents" in refusal
    edit = fake.command(world.alice, world.general, "/kb edit KB-1")
    await desk.step()
    assert edit.response["type"] == 5


async def test_huge_answers_save_nothing(fake, world, desk):
    run = fake.command(world.sam, world.general, "/kb add")
    await fake.wait_for(lambda: run.response)
    # Discord stops these at max_length; a forged submission does not.
    sent = fake.submit(world.sam, run, {"title": "t" * 1000, "text": "body"})
    await desk.step()
    assert "title can be at most 200 characters" in ephemeral_texts(sent)[0]
    assert await articles(desk, world) == []
