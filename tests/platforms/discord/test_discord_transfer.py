"""A transfer between teams over Discord's wire: the old team's card, an embed with
buttons, is edited in place to say where the ticket went, and loses its buttons."""

from __future__ import annotations

import pytest

from bot.domain.people import Role

from tests.support.discord.desk import DiscordDesk


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


async def test_the_old_card_is_edited_in_place_and_loses_its_buttons(fake, world, desk):
    hr_triage = fake.add_channel(world.guild, "hr-triage")
    now = desk.clock.now()
    async with desk.db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("discord", world.guild, world.guild, now)
        await uow.workspaces.add_team(workspace.id, "hr", now)
    async with desk.db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("discord", world.guild, world.guild, now)
        await uow.workspaces.set_channel(workspace.id, "triage", hr_triage, now, only_one=True,
                                         team=workspace.team_named("hr"))
        # Someone works team hr (a team nobody works takes no transfer).
        hana = await uow.people.ensure(workspace.id, "hana-id", "Hana", now)
        await uow.workspaces.set_member(workspace.team_named("hr").id, hana.id, "agent", now)
        await uow.people.record_role(hana.id, Role.AGENT)
    fake.dm(world.alice, "My payslip is wrong")
    await desk.step()
    (card,) = fake.posts_in(world.triage)
    assert card["components"], "the card has its buttons while it is IT's"
    run = fake.command(world.sam, world.general, "/ticket transfer 1 hr payroll question")
    await desk.step()
    await desk.settle()
    assert run.original["content"].startswith("Done: #1 is now with team hr")
    (card,) = fake.posts_in(world.triage)  # the same message, edited
    assert card.get("edited_timestamp") and card["components"] == []
    said = card["embeds"][0].get("description", "")
    assert said.startswith("Moved to team hr by Sam: “payroll question”."), card
    new_cards = fake.posts_in(hr_triage)
    assert new_cards and new_cards[0]["components"]
