"""The Discord adapter's pure parts: custom ids, modals, commands, nonces and text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from discord.utils import time_snowflake

from bot.core import Button, FormField
from bot.platforms.discord.outbound import nonce_for, split_text
from bot.platforms.discord.replies import ReplyToken
from bot.platforms.discord.commands import (
    command_payloads,
    command_words,
    read_command,
    ticket_choice_name,
)
from bot.platforms.discord.ui import FormBook, modal_values, parse_modal_id
from bot.templates import load_templates
from tests.support.discord import schema


def test_a_button_routes_itself_and_its_form_survives_without_labels():
    book = FormBook()
    form = (FormField("when", "When"), FormField("text", "What", optional=True, multiline=True))
    custom_id = book.custom_id(Button("Follow up", "card.followup", "12:34", form=form))
    assert custom_id == "hdf:card.followup:when,text~mo:12:34"
    assert book.parse(custom_id) == ("card.followup", "12:34", form)
    fresh = FormBook()  # a restarted process knows the fields, not their wording
    assert fresh.parse(custom_id) == ("card.followup", "12:34", (
        FormField("when", "When"), FormField("text", "Text", multiline=True, optional=True)))
    assert fresh.parse("hd:resolution.yes:7") == ("resolution.yes", "7", ())
    assert fresh.parse("something-else") is None


def test_a_custom_id_too_long_to_route_itself_is_kept_in_memory():
    book = FormBook()
    custom_id = book.custom_id(Button("Go", "x.y", "v" * 200))
    assert len(custom_id) <= 100 and book.parse(custom_id) == ("x.y", "v" * 200, ())


def test_modal_answers_are_read_from_rows_or_labels():
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": "when", "value": "2h"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "text", "value": "call"}}]
    assert modal_values(rows) == {"when": "2h", "text": "call"}
    assert parse_modal_id("hdm:card.reply:4") == ("card.reply", "4")
    assert parse_modal_id("other:1") is None


TEMPLATES = load_templates()


def _desk_router():
    from bot.desk.features import register_all
    from bot.desk.router import Router

    router = Router(None, None)  # only its table of commands is read
    register_all(router)
    return router


def test_the_desks_commands_are_valid_application_commands():
    router = _desk_router()
    payloads = command_payloads(command_words(router), TEMPLATES)
    assert schema.problems(payloads) == []
    registered = {(c["name"], o["name"]) for c in payloads for o in c["options"]}
    assert registered == {key for key in router.commands if key[1]}
    # Without the router's table every sub-command of the typed table is offered.
    assert schema.problems(command_payloads(command_words(object()), TEMPLATES)) == []


def test_every_word_the_router_knows_has_typed_options():
    from bot.platforms.discord.commands import SPECS

    missing = [key for key in _desk_router().commands if key[1] and key not in SPECS]
    assert missing == [], "describe these sub-commands' options in commands.py SPECS"


def test_a_word_without_a_typed_table_takes_optional_free_text():
    from types import SimpleNamespace

    templates = TEMPLATES.with_overrides({"commands": {"ticket_odd": "doing odd things"}})
    sink = SimpleNamespace(commands={("ticket", "odd"): SimpleNamespace(
        description="commands.ticket_odd")})
    [ticket, *_] = command_payloads(command_words(sink), templates)
    assert ticket["options"] == [{"type": 1, "name": "odd", "description": "Doing odd things",
                                  "options": [{"type": 3, "name": "text", "required": False,
                                               "description": "What to say",
                                               "max_length": 4000}]}]
    read = read_command({"name": "ticket", "options": [{"type": 1, "name": "odd", "options": [
        {"type": 3, "name": "text", "value": "a b"}]}]})
    assert read.text == "odd a b"


def sub(word, *options, resolved=None, name="ticket"):
    data = {"name": name, "type": 1,
            "options": [{"type": 1, "name": word, "options": list(options)}]}
    if resolved:
        data["resolved"] = resolved
    return read_command(data)


def test_typed_options_become_the_words_the_router_reads():
    kim = {"users": {"42": {"id": "42", "username": "kim", "global_name": "Kim <K>"}},
           "members": {"42": {"nick": "Kimberly", "roles": []}}}
    assert sub("claim", {"type": 4, "name": "ticket", "value": 4}).text == "claim 4"
    assert sub("assign", {"type": 4, "name": "ticket", "value": 4},
               {"type": 6, "name": "person", "value": "42"}, resolved=kim).text \
        == "assign 4 <@42|Kimberly>"
    del kim["members"]
    assert sub("agents", {"type": 3, "name": "action", "value": "add"},
               {"type": 6, "name": "person", "value": "42"}, resolved=kim,
               name="helpdesk").text == "agents add <@42|Kim K>"
    assert sub("priority", {"type": 4, "name": "ticket", "value": 4},
               {"type": 3, "name": "urgency", "value": "low"},
               {"type": 3, "name": "impact", "value": "High"}).text \
        == "priority 4 impact=high urgency=low"
    assert sub("followup", {"type": 3, "name": "text", "value": "call  back"},
               {"type": 4, "name": "ticket", "value": 4},
               {"type": 3, "name": "when", "value": "tomorrow 9am"}).text \
        == "followup 4 tomorrow 9am | call back"
    assert sub("hours", {"type": 3, "name": "days", "value": "mon - fri"},
               {"type": 3, "name": "hours", "value": "09:00 -17:00"},
               {"type": 3, "name": "timezone", "value": "Europe/London"},
               name="helpdesk").text == "hours mon-fri 09:00-17:00 Europe/London"
    assert sub("sla", {"type": 3, "name": "priority", "value": "P2"},
               {"type": 3, "name": "resolve", "value": "24h"}, name="helpdesk").text \
        == "sla P2 resolve=24h"
    assert sub("triage", {"type": 7, "name": "channel", "value": "77"}, name="helpdesk").text \
        == "triage <#77>"
    assert sub("intake", name="helpdesk").text == "intake"
    assert sub("mine").text == "mine"


def test_values_no_client_sends_are_problems_to_answer():
    assert sub("claim").problem == "discord.missing"
    assert sub("claim", {"type": 4, "name": "ticket", "value": True}).problem \
        == "discord.not_a_number"
    assert sub("claim", {"type": 4, "name": "ticket", "value": 2**31}).problem \
        == "discord.no_such_ticket"
    vendor = sub("wait", {"type": 4, "name": "ticket", "value": 1},
                 {"type": 3, "name": "on", "value": "vendor"})
    assert vendor.problem == "discord.bad_choice"
    assert vendor.words(TEMPLATES) == "**on** takes one of: requester or third-party."
    assert sub("reply", {"type": 4, "name": "ticket", "value": 1},
               {"type": 3, "name": "text", "value": "x" * 4001}).problem == "discord.too_long"
    assert sub("priority", {"type": 4, "name": "ticket", "value": 1},
               {"type": 3, "name": "priority", "value": "P1"},
               {"type": 3, "name": "impact", "value": "low"},
               {"type": 3, "name": "urgency", "value": "low"}).problem \
        == "discord.one_of_ticket_priority"
    bot = {"users": {"9": {"id": "9", "username": "dyno", "bot": True}}}
    read = sub("assign", {"type": 4, "name": "ticket", "value": 1},
               {"type": 6, "name": "person", "value": "9"}, resolved=bot)
    assert (read.problem, read.fields) == ("discord.a_bot", {"name": "dyno", "option": "person"})
    for problem in ("missing", "not_a_number", "no_such_ticket", "bad_choice", "too_long",
                    "one_of_ticket_priority", "a_bot"):
        assert TEMPLATES.raw(f"discord.{problem}")


def test_a_ticket_choice_is_one_line_of_at_most_100_characters():
    name = ticket_choice_name(TEMPLATES, 12, "VPN\ndrops\x1b[31m " + "x" * 200)
    assert name.startswith("#12 VPN drops") and len(name) == 100 and name.endswith("…")
    assert "\n" not in name and "\x1b" not in name


def test_nonces_are_short_and_stable():
    assert nonce_for("hd-12") == "hd-12"
    long = nonce_for("hd-card-" + "1" * 30)
    assert len(long) <= 25 and long == nonce_for("hd-card-" + "1" * 30)
    assert nonce_for("hd-12", 1) != nonce_for("hd-12")


def test_text_is_split_under_discords_limit():
    parts = split_text("line\n" * 1000)
    assert all(len(p) <= 2000 for p in parts) and "".join(parts).count("line") == 1000


def test_reply_tokens_round_trip_and_expire():
    made = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    token = ReplyToken.parse(f"111:{time_snowflake(made)}:tok-abc:def")
    assert token is not None and token.token == "tok-abc:def" and str(token).startswith("111:")
    assert ReplyToken.parse("https://hooks.slack.com/x") is None
    assert token.usable(made + timedelta(minutes=13))
    assert not token.usable(made + timedelta(minutes=15))


def test_the_report_commands_read_as_the_router_reads_them():
    sam = {"users": {"7": {"id": "7", "username": "sam", "global_name": "Sam"}}}
    assert sub("report", name="helpdesk").text == "report"
    assert sub("report", {"type": 6, "name": "agent", "value": "7"},
               {"type": 3, "name": "period", "value": "30d"}, resolved=sam,
               name="helpdesk").text == "report 30d agent <@7|Sam>"
    assert sub("stats", {"type": 3, "name": "period", "value": "week"}).text == "stats week"
