"""Slack text and Block Kit rendering, without a network: escaping, truncation, limits."""

from __future__ import annotations

import re

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.core import Button, FormField, OutboundMessage
from bot.platforms.slack.blocks import (
    FormOrigin,
    action_of,
    button_elements,
    decode_value,
    encode_value,
    form_values,
    home_view,
    message_blocks,
    modal,
)
from bot.platforms.slack.limits import MethodLimiter
from bot.platforms.slack.markup import escape, mrkdwn, strip_mention, truncate_escaped, unescape
from bot.desk.quoting import defang

LIVE_GROUP = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^S123>")


def test_a_group_mention_typed_by_a_user_never_reaches_slack_live():
    # Slack sends "@channel" as <!channel>, and a literally typed "<!channel>" as
    # &lt;!channel&gt;: after unescaping both are "<!channel>" in neutral text.
    for typed in ("<!channel> please", "&lt;!here&gt; now", "hi <!subteam^S123|@it>"):
        out = escape(defang(unescape(typed)))
        assert not any(group in out for group in LIVE_GROUP)
        assert "<!" not in out
    assert escape("<!channel>") == "&lt;!channel&gt;"  # even without defang


def test_template_references_to_people_and_channels_stay_live():
    text = "Hi <@U123ABC>, see <#C024BE7LR|general> & <@W99|sam> <a>"
    assert escape(text) == "Hi <@U123ABC>, see <#C024BE7LR|general> &amp; <@W99|sam> &lt;a&gt;"


def test_markup_cannot_hide_inside_a_reference_label():
    assert escape("<@U123|<!channel>>") == "&lt;@U123|&lt;!channel&gt;&gt;"
    assert escape("<http://evil.example|click>") == "&lt;http://evil.example|click&gt;"


def test_unescape_is_a_single_pass():
    assert unescape("a &amp;lt; b &lt;@U1&gt; &gt;") == "a &lt; b <@U1> >"


def test_the_bot_mention_is_removed_from_what_people_wrote():
    assert strip_mention("<@UBOT> my  printer <@UBOT|helpdesk> jams", "UBOT") == "my printer jams"


@given(st.text(alphabet="ab&<>@!#UC1 |", max_size=80), st.integers(min_value=2, max_value=40))
def test_truncation_never_splits_an_entity_or_reference(text, limit):
    out = truncate_escaped(escape(text), limit)
    assert len(out) <= limit
    body = out.removesuffix("…")
    # Every & starts a whole entity and every < a whole reference.
    for index, char in enumerate(body):
        if char == "&":
            assert body[index:index + 5] == "&amp;" or body[index:index + 4] in ("&lt;", "&gt;")
    assert body.count("<") == body.count(">") or "&gt;" in body


def card(buttons=(), fields=(), text="Printer on fire", title="#4 · Printer") -> OutboundMessage:
    return OutboundMessage(channel_id="C1", text=text, title=title, fields=fields, buttons=buttons)


def test_a_card_is_a_header_a_section_fields_and_buttons():
    blocks = message_blocks(card(
        buttons=(Button("Claim", "card.claim", "7", "primary"),
                 Button("Reply", "card.reply", "7", form=(FormField("text", "Reply", True),))),
        fields=(("Status", "Open"), ("Owner", "<!here>"))))
    assert [b["type"] for b in blocks] == ["header", "section", "section", "actions"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "#4 · Printer", "emoji": True}
    assert blocks[2]["fields"][1]["text"] == "*Owner*\n&lt;!here&gt;"
    claim, reply = blocks[3]["elements"]
    assert (claim["action_id"], claim["value"], claim["style"]) == ("card.claim", "7", "primary")
    assert decode_value(reply["value"]) == ("7", (FormField("text", "Reply", True, False),))


def test_block_kit_limits_are_respected():
    huge = "x" * 10_000
    blocks = message_blocks(card(text=huge, title="t" * 500,
                                 fields=tuple((f"f{i}", "y" * 1_900) for i in range(23)),
                                 buttons=tuple(Button(str(i), "rate", str(i)) for i in range(30))))
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section"
               and "text" in b)
    sections = [b for b in blocks if "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 10, 3]
    assert all(len(f["text"]) <= 2000 for s in sections for f in s["fields"])
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(set(ids)) == 30 and {action_of(i) for i in ids} == {"rate"}
    many = message_blocks(card(fields=tuple((str(i), "v") for i in range(600)),
                               buttons=(Button("Go", "go"),)))
    assert len(many) == 50 and many[-1]["type"] == "actions"


def test_home_view_holds_at_most_100_blocks():
    view = home_view(OutboundMessage(channel_id="", text="hi", title="Desk", audience="home",
                                     fields=tuple((f"s{i}", "x") for i in range(80))))
    assert view["type"] == "home" and len(view["blocks"]) == 100


def test_a_form_button_opens_a_modal_whose_answers_come_back_by_field():
    button = Button("Follow up", "card.followup", "12",
                    form=(FormField("when", "When?"), FormField("text", "Note", True, True)))
    value, form = decode_value(encode_value(button))
    origin = FormOrigin("card.followup", value, "Follow up with a long label", "C1", "1.1", None,
                        "http://r")
    view = modal(origin, form)
    assert view["callback_id"] == "hd|card.followup|12"
    assert len(view["title"]["text"]) <= 24
    assert [b["block_id"] for b in view["blocks"]] == ["when", "text"]
    assert view["blocks"][1]["optional"] and view["blocks"][1]["element"]["multiline"]
    assert FormOrigin.load(view["private_metadata"]) == origin
    state = {"values": {"when": {"when": {"value": " 2h "}}, "text": {"text": {"value": None}}}}
    assert form_values({"state": state}) == {"when": "2h", "text": ""}


def test_button_values_without_forms_pass_through_unchanged():
    assert decode_value("12:3") == ("12:3", ())
    assert decode_value('{"v": broken') == ('{"v": broken', ())
    assert json.loads(button_elements((Button("A", "a", "1", form=(FormField("f", "F"),)),))[0]
                      ["value"])["v"] == "1"


def test_the_method_limiter_lets_a_tier_burst_then_asks_to_wait():
    now = [100.0]
    limiter = MethodLimiter({"chat.update": 50}, clock=lambda: now[0])
    assert all(limiter.reserve("chat.update") == 0 for _ in range(50))
    wait = limiter.reserve("chat.update")
    assert 1.1 < wait < 1.3  # one more after 60/50 s
    now[0] += wait
    assert limiter.reserve("chat.update") == 0
    limiter.block("chat.postMessage", 30)
    assert abs(limiter.reserve("chat.postMessage") - 30) < 1e-6
    assert mrkdwn("a & b", 100) == "a &amp; b"


def test_the_manifest_subscribes_to_everything_the_adapter_listens_for():
    from pathlib import Path

    from bot.platforms.slack.inbound import COMMANDS, EVENTS
    manifest = Path(__file__).parents[3] / "bot" / "config" / "slack-manifest.yaml"
    lines = [line.split("#")[0].strip() for line in manifest.read_text().splitlines()]
    for command in COMMANDS:
        assert f"- command: {command}" in lines
    for event in EVENTS:
        wanted = ("message.im", "message.channels", "message.groups") if event == "message" \
            else (event,)
        assert all(f"- {name}" in lines for name in wanted), event
    for scope in ("chat:write", "commands", "users:read", "reactions:read", "im:write",
                  "app_mentions:read", "im:history", "channels:history"):
        assert f"- {scope}" in lines
    assert "socket_mode_enabled: true" in lines and "is_enabled: true" in lines


def test_a_message_too_big_for_one_slack_message_is_several_and_nothing_is_cut():
    from bot.platforms.slack.blocks import message_parts
    text = " ".join(f"w{i:05d}" for i in range(30_000))  # 210,000 characters
    fields = tuple((f"f{i}", f"v{i:05d} " * 400) for i in range(3))  # each too long for a field
    parts = message_parts(card(text=text, fields=fields, buttons=(Button("Go", "go"),)))
    assert len(parts) > 1
    blocks = [b for _, part in parts for b in part]
    assert all(len(part) <= 50 for _, part in parts)
    assert parts[0][1][0]["type"] == "header" and parts[-1][1][-1]["type"] == "actions"
    assert not any(b["type"] == "actions" for _, part in parts[:-1] for b in part)
    shown = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b)
    assert re.findall(r"w\d{5}", shown) == [f"w{i:05d}" for i in range(30_000)]
    assert re.findall(r"v\d{5}", shown) == [f"v{i:05d}" for i in range(3) for _ in range(400)]
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b
               and b["type"] == "section")
    assert all(sum(len(b["text"]["text"]) for b in part if b["type"] == "section")
               <= 39_000 for _, part in parts)
