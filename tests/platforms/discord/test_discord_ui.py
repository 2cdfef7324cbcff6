"""The Discord adapter's pure parts: custom ids, modals, commands, nonces and text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from discord.utils import time_snowflake

from bot.core import Button, FormField
from bot.platforms.discord.outbound import nonce_for, split_text
from bot.platforms.discord.replies import ReplyToken
from bot.platforms.discord.ui import (
    FormBook,
    command_payloads,
    command_text,
    command_words,
    modal_values,
    parse_modal_id,
)
from bot.templates import Templates, config_dir


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


def test_commands_take_free_text_when_the_desk_names_no_words():
    templates = Templates.load(config_dir())
    payloads = command_payloads(command_words(object(), templates), templates)
    assert [c["name"] for c in payloads] == ["ticket", "helpdesk"]
    assert payloads[0]["options"] == [{"type": 3, "name": "args", "required": False,
                                       "description": "What follows the command word"}]
    assert command_text({"options": [{"type": 3, "name": "args", "value": "claim 4"}]}) == \
        "claim 4"
    assert command_text({"options": [{"type": 1, "name": "claim",
                                      "options": [{"type": 3, "name": "args", "value": "4"}]}]}) \
        == "claim 4"


def test_sub_commands_are_described_in_the_desks_words():
    from types import SimpleNamespace

    templates = Templates.load(config_dir()).with_overrides(
        {"commands": {"ticket_claim": "taking a ticket on"}})
    sink = SimpleNamespace(commands={("ticket", "claim"): SimpleNamespace(
        description="commands.ticket_claim"), ("ticket", "odd"): SimpleNamespace()})
    [ticket, helpdesk] = command_payloads(command_words(sink, templates), templates)
    assert [(o["name"], o["description"]) for o in ticket["options"]] == [
        ("claim", "Taking a ticket on"), ("odd", "Odd")]
    assert (ticket["description"], helpdesk["description"]) == (
        templates.render("discord.ticket_command"), templates.render("discord.helpdesk_command"))


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
