"""Typed slash commands on Discord: a sub-command per action, the ticket number as an
integer option with autocomplete, people as user options, priorities as choices, and
every registered payload valid by Discord's rules. Interactions travel as Discord sends
them (options nested under the sub-command, users resolved in ``data.resolved``)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event

from bot.core import Actor, CommandInvoked
from tests.support.discord import schema
from tests.support.discord.desk import DiscordDesk
from tests.support.discord.server import ephemeral_texts


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


def sub_commands(fake, guild, name):
    synced = {c["name"]: c for c in fake.commands[guild]}
    return {o["name"]: o for o in synced[name]["options"]}


def options_of(fake, guild, name, word):
    return {o["name"]: o for o in sub_commands(fake, guild, name)[word].get("options", [])}


async def open_ticket(fake, world, desk, who, text) -> dict:
    asked = fake.say(who, world.help, text)
    await desk.step()
    return asked


# -- the registered commands --------------------------------------------------------------

async def test_the_registered_commands_follow_discords_rules(fake, world, desk):
    payload = [{k: v for k, v in c.items() if k in ("name", "type", "description", "options",
                                                    "contexts")}
               for c in fake.commands[world.guild]]
    assert schema.problems(payload) == []
    assert fake.rejected_commands == []


async def test_each_action_takes_typed_options_not_free_text(fake, world, desk):
    ticket = sub_commands(fake, world.guild, "ticket")
    helpdesk = sub_commands(fake, world.guild, "helpdesk")
    every = [o for sub in (*ticket.values(), *helpdesk.values()) for o in sub.get("options", [])]
    assert "args" not in {o["name"] for o in every}
    for word in ("show", "claim", "assign", "reply", "note", "followup", "priority", "wait",
                 "escalate", "resolve", "reopen"):
        number = options_of(fake, world.guild, "ticket", word)["ticket"]
        assert (number["type"], number["required"], number["autocomplete"]) == (4, True, True), word
        assert number["min_value"] == 1
    assert options_of(fake, world.guild, "ticket", "assign")["person"]["type"] == 6
    priority = options_of(fake, world.guild, "ticket", "priority")["priority"]
    assert [c["value"] for c in priority["choices"]] == ["P1", "P2", "P3", "P4"]
    when = options_of(fake, world.guild, "ticket", "followup")["when"]
    assert when["type"] == 3 and when["required"] and when["max_length"] <= 100
    for word in ("new", "reply", "note"):
        text = options_of(fake, world.guild, "ticket", word)["text"]
        assert text["type"] == 3 and text["required"] and 100 <= text["max_length"] <= 6000
    agents = options_of(fake, world.guild, "helpdesk", "agents")
    assert [c["value"] for c in agents["action"]["choices"]] == ["add", "remove"]
    assert agents["person"]["type"] == 6 and agents["person"]["required"]
    assert options_of(fake, world.guild, "helpdesk", "triage")["channel"]["type"] == 7
    assert all(o["description"] for o in every)


def test_the_validator_refuses_what_discord_refuses():
    good = {"name": "ticket", "type": 1, "description": "Tickets", "options": [
        {"type": 1, "name": "claim", "description": "Claim", "options": [
            {"type": 4, "name": "ticket", "description": "Number", "required": True}]}]}
    assert schema.problems([good]) == []
    broken = [
        {**good, "name": "Ticket"},
        {**good, "name": "a" * 33},
        {**good, "name": "two words"},
        {**good, "description": ""},
        {**good, "description": "d" * 101},
        {**good, "options": [{"type": 3, "name": f"o{n}", "description": "x"} for n in range(26)]},
        {**good, "options": [{"type": 3, "name": "a", "description": "x"},
                             {"type": 3, "name": "b", "description": "x", "required": True}]},
        {**good, "options": [{"type": 3, "name": "a", "description": "x", "choices": [
            {"name": str(n), "value": str(n)} for n in range(26)]}]},
        {**good, "options": [{"type": 3, "name": "a", "description": "x", "autocomplete": True,
                              "choices": [{"name": "b", "value": "b"}]}]},
        {**good, "options": [{"type": 6, "name": "a", "description": "x", "max_length": 5}]},
        {**good, "options": [{"type": 1, "name": "a", "description": "x"},
                             {"type": 3, "name": "b", "description": "x"}]},
        {**good, "options": [{"type": 1, "name": f"s{n}", "description": "d" * 100}
                             for n in range(25)] + []},
    ]
    broken[-1]["options"][0]["options"] = [
        {"type": 3, "name": f"o{n}", "description": "d" * 100} for n in range(25)]
    for command in broken:
        assert schema.problems([command]), command


# -- typed options reach the desk as the commands it knows ---------------------------------

async def test_an_agent_works_a_ticket_with_typed_options(fake, world, desk):
    asked = await open_ticket(fake, world, desk, world.alice, "VPN drops every hour")
    runs = []
    for line, named in ((f"/ticket assign 1 <@{world.sam}>", {}),
                        ("/ticket priority", {"ticket": 1, "priority": "P2"}),
                        ("/ticket note 1 checked the logs", {}),
                        ("/ticket wait", {"ticket": 1, "on": "third-party",
                                          "text": "the VPN vendor"})):
        runs.append(fake.command(world.sam, world.triage, line, **named))
        await desk.step()
    texts = [ephemeral_texts(r)[0] for r in runs]
    assert texts[0].startswith("You now own #1")
    assert texts[1] == "#1 is now P2 (high)."
    assert texts[2].startswith("Note added to #1")
    assert "waiting on a third party" in texts[3]
    assert any("Sam" in m["content"] for m in fake.posts_in(asked["id"]))


async def test_people_are_user_options_and_are_named_by_name(fake, world, desk):
    kim = fake.add_user("Kim")
    fake.add_member(world.guild, kim)
    run = fake.command(world.ada, world.general, f"/helpdesk agents add <@{kim}> <@{world.alice}>")
    await desk.step()
    assert ephemeral_texts(run) == ["Done: Kim and Alice can now work the desk as agents."]


async def test_an_unknown_ticket_number_is_not_found(fake, world, desk):
    run = fake.command(world.alice, world.general, "/ticket show 99999")
    await desk.step()
    assert ephemeral_texts(run)[0].startswith("I can't find ticket #99999.")


# -- bad values get a clear answer and change nothing --------------------------------------

async def test_a_number_out_of_range_is_answered_politely(fake, world, desk):
    handled = len(desk.sink.events)
    runs = [fake.invoke(world.sam, world.triage, "ticket", "claim",
                        [{"type": 4, "name": "ticket", "value": value}])
            for value in (0, 99999999999999, "12abc")]
    await fake.wait_for(lambda: all(r.response for r in runs))
    texts = [ephemeral_texts(r)[0] for r in runs]
    assert texts[0] == ("I can't find ticket #0. Start typing in **ticket** and pick one "
                        "from the list.")
    assert texts[1] == ("I can't find ticket #99999999999999. Start typing in **ticket** and "
                        "pick one from the list.")
    assert texts[2] == "**ticket** takes a ticket number, like 12."
    assert all(r.response["type"] == 4 for r in runs)
    assert len(desk.sink.events) == handled  # nothing reached the desk


async def test_a_user_option_naming_a_bot_is_refused(fake, world, desk):
    await open_ticket(fake, world, desk, world.alice, "Printer on fire")
    dyno = fake.add_user("Dyno", bot=True)
    fake.add_member(world.guild, dyno)
    handled = len(desk.sink.events)
    runs = [fake.command(world.sam, world.triage, f"/ticket assign 1 <@{dyno}>"),
            fake.command(world.ada, world.general, f"/helpdesk agents add <@{fake.bot['id']}>")]
    await fake.wait_for(lambda: all(r.response for r in runs))
    assert [ephemeral_texts(r)[0] for r in runs] == [
        "Dyno is a bot. Pick a person for **person**.",
        "Helpdesk is a bot. Pick a person for **person**."]
    assert len(desk.sink.events) == handled


async def test_a_missing_option_is_named(fake, world, desk):
    handled = len(desk.sink.events)
    runs = [fake.invoke(world.sam, world.triage, "ticket", "claim", []),
            fake.invoke(world.sam, world.triage, "ticket", "assign",
                        [{"type": 4, "name": "ticket", "value": 1}]),
            fake.invoke(world.sam, world.triage, "ticket", "priority",
                        [{"type": 4, "name": "ticket", "value": 1},
                         {"type": 3, "name": "impact", "value": "high"}]),
            fake.invoke(world.sam, world.triage, "ticket", "priority",
                        [{"type": 4, "name": "ticket", "value": 1},
                         {"type": 3, "name": "priority", "value": "P9"}])]
    await fake.wait_for(lambda: all(r.response for r in runs))
    assert [ephemeral_texts(r)[0] for r in runs] == [
        "Please fill in **ticket** for `/ticket claim`, then send it again.",
        "Please fill in **person** for `/ticket assign`, then send it again.",
        "Pick a **priority**, or an **impact** and an **urgency** together.",
        "**priority** takes one of: P1, P2, P3 or P4."]
    assert len(desk.sink.events) == handled


async def test_text_messages_still_work_as_before(fake, world, desk):
    await open_ticket(fake, world, desk, world.alice, "Keyboard types backwards")
    card = fake.posts_in(world.triage)[0]
    assert "#1" in card["embeds"][0]["title"]


# -- autocomplete ---------------------------------------------------------------------------

async def seed(desk, world, who: str, name: str, subjects: list[str]) -> None:
    """Open tickets straight through the router (``/ticket new``), without delivering."""
    for n, subject in enumerate(subjects):
        await desk.router(CommandInvoked(
            platform="discord", workspace_id=world.guild, event_id=f"seed-{who}-{n}",
            actor=Actor(who, name), channel_id=world.help, name="ticket", text=f"new {subject}"))


def choices(run) -> list[dict]:
    assert run.response["type"] == 8
    return run.response["data"]["choices"]


async def test_a_requester_sees_only_their_own_tickets(fake, world, desk):
    bob = fake.add_user("Bob")
    fake.add_member(world.guild, bob)
    await seed(desk, world, world.alice, "Alice", ["VPN drops every hour", "Printer jams"])
    await seed(desk, world, bob, "Bob", ["VPN token expired", "Laptop is slow"])
    everything = fake.autocomplete(world.alice, world.general, "/ticket show", "ticket", "")
    vpn = fake.autocomplete(world.alice, world.general, "/ticket show", "ticket", "vpn")
    by_number = fake.autocomplete(world.alice, world.general, "/ticket reopen", "ticket", "#3")
    bobs = fake.autocomplete(bob, world.general, "/ticket show", "ticket", "")
    runs = [everything, vpn, by_number, bobs]
    await fake.wait_for(lambda: all(r.response for r in runs))
    assert choices(everything) == [{"name": "#2 Printer jams", "value": 2},
                                   {"name": "#1 VPN drops every hour", "value": 1}]
    assert choices(vpn) == [{"name": "#1 VPN drops every hour", "value": 1}]
    assert choices(by_number) == []  # #3 is Bob's
    assert [c["value"] for c in choices(bobs)] == [4, 3]
    assert all(r.acked_at - r.dispatched_at < 3 for r in runs)


async def test_an_agent_sees_the_desks_open_tickets(fake, world, desk):
    bob = fake.add_user("Bob")
    await seed(desk, world, world.alice, "Alice", ["VPN drops every hour", "Printer jams",
                                                   "VPN client crashed"])
    await seed(desk, world, bob, "Bob", ["VPN token expired"])
    async with desk.db.unit_of_work() as uow:  # #3 was closed long ago
        workspace = await uow.workspaces.ensure("discord", world.guild, world.guild,
                                                desk.clock.now())
        closed = await uow.tickets.by_number(workspace.id, 3)
        await uow.tickets.update(closed.id, status="closed")
    vpn = fake.autocomplete(world.sam, world.triage, "/ticket claim", "ticket", "vpn ")
    one = fake.autocomplete(world.sam, world.triage, "/ticket claim", "ticket", "1")
    await fake.wait_for(lambda: vpn.response and one.response)
    assert choices(vpn) == [{"name": "#4 VPN token expired", "value": 4},
                            {"name": "#1 VPN drops every hour", "value": 1}]
    assert [c["value"] for c in choices(one)] == [1]


async def test_autocomplete_is_one_query_and_at_most_25_choices(fake, world, desk):
    long = "Outlook keeps asking for my password " * 10
    await seed(desk, world, world.alice, "Alice", [f"{long} {n}" for n in range(30)])
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = desk.db.engine.sync_engine
    warm = fake.autocomplete(world.alice, world.general, "/ticket show", "ticket", "")
    await fake.wait_for(lambda: warm.response)
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.monotonic()
        run = fake.autocomplete(world.alice, world.general, "/ticket show", "ticket", "outlook")
        await fake.wait_for(lambda: run.response)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    found = choices(run)
    assert len(found) == 25 and found[0]["value"] == 30
    assert all(1 <= len(c["name"]) <= 100 for c in found)
    assert found[0]["name"].startswith("#30 Outlook keeps asking")
    assert found[0]["name"].endswith("…")
    assert len([s for s in statements if "tickets" in s]) == 1, statements
    assert run.acked_at - started < 3



async def test_a_follow_ups_when_and_words_stay_apart(fake, world, desk):
    # when "2h", text "30m call with the vendor": the promise is in 2 hours and the words
    # are all the agent's, never read as "2h 30m" followed by "call with the vendor".
    await open_ticket(fake, world, desk, world.alice, "VPN drops every hour")
    fake.command(world.sam, world.triage, "/ticket claim 1")
    await desk.step()
    run = fake.command(world.sam, world.triage, "/ticket followup",
                       ticket=1, when="2h", text="30m call with the vendor")
    await desk.step()
    [answer] = ephemeral_texts(run)
    assert answer.startswith("Noted: you'll update"), answer
    said = [m["content"] for m in fake.messages.values()
            if m["author"]["id"] == fake.bot["id"]
            and "call with the vendor" in (m.get("content") or "")]
    assert said and all("Sam: 30m call with the vendor" in text for text in said), said
