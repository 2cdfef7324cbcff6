"""Cleaning what people typed: examples, and properties over any text at all."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from bot.core import Actor, ButtonPressed, CommandInvoked, IncomingMessage, ReactionAdded
from bot.core.text import NAME_LIMIT, clean_event, clean_name, clean_text, has_words

EXAMPLES = [
    ("plain words", "plain words"),
    ("two\nlines\tand a tab", "two\nlines\tand a tab"),
    ("windows\r\nline\rends", "windows\nline\nends"),
    ("\x1b[31mred\x1b[0m text", "red text"),
    ("title \x1b]0;owned\x07here", "title here"),
    ("title \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "title link"),
    ("clear\x1b[2J\x1b[Hscreen", "clearscreen"),
    ("8-bit \x9b31mcsi", "8-bit csi"),
    ("unterminated \x1b]0;title and the rest stays", "unterminated 0;title and the rest stays"),
    ("reset\x1bc done", "reset done"),
    ("nul\x00 byte", "nul byte"),
    ("bell\x07 and del\x7f", "bell and del"),
    ("bad \udcff bytes", "bad \ufffd bytes"),
    ("\u200b\ufeff padded \u200b", "padded"),
    ("👩\u200d💻 coder", "👩\u200d💻 coder"),
    ("\u200b", ""), ("\x00", ""), ("  \n\t ", ""), ("\ufffd", ""), ("\u3164\u2800", ""),
    ("e\u0301", "e\u0301"), ("\u0301", ""),
    ("line\u2028sep", "line\nsep"),
]


@pytest.mark.parametrize("raw, clean", EXAMPLES)
def test_examples(raw, clean):
    assert clean_text(raw) == clean


def test_names_are_one_line_without_overrides_and_short():
    assert clean_name("\x1b[1mAnn\nLee\t\u202eX") == "Ann Lee X"
    assert clean_name("A" * 500) == "A" * (NAME_LIMIT - 1) + "…"
    assert clean_name("\u200b\x00") == ""


_ALLOWED_CONTROLS = {"\n", "\t"}


def _text():
    # Any code point, surrogates and controls included, with escape sequences mixed in.
    pieces = st.one_of(
        st.text(st.characters(codec=None, blacklist_categories=()), max_size=30),
        st.sampled_from(["\x1b[", "\x1b]", "\x1b", "\x9b", "\x9d", "\x07", "\x1b\\", "\r",
                         "\x00", "\u200b", "\ud800", "m", "31", ";", "\n", "\t", " "]),
    )
    return st.lists(pieces, max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(_text())
def test_clean_text_leaves_no_control_escape_nul_or_surrogate(raw):
    text = clean_text(raw)
    text.encode("utf-8")  # no lone surrogate: every database and platform can take it
    for char in text:
        assert unicodedata.category(char) != "Cc" or char in _ALLOWED_CONTROLS, repr(char)
    assert clean_text(text) == text  # cleaning twice changes nothing
    assert text == "" or has_words(text)


@settings(max_examples=300, deadline=None)
@given(_text(), st.integers(min_value=2, max_value=200))
def test_clean_name_is_one_short_line(raw, limit):
    name = clean_name(raw, limit)
    name.encode("utf-8")
    assert len(name) <= limit
    assert "\n" not in name and "\t" not in name
    assert all(unicodedata.category(c) != "Cc" for c in name)
    assert clean_name(name, limit) == name


# Letters that draw nothing (Hangul fillers, the braille blank) are trimmed at the ends
# like spaces, on purpose: they make names and messages that look empty.
_BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"


@given(st.text(st.characters(whitelist_categories=("L", "N", "P", "S", "Zs"),
                             blacklist_characters=_BLANK_LETTERS), max_size=80))
def test_ordinary_text_is_kept_as_written(raw):
    # Letters, digits, punctuation, symbols and spaces: only spaces at the ends go.
    if has_words(raw):
        assert clean_text(raw) == raw.strip()


def test_letters_that_draw_nothing_are_trimmed_at_the_ends_like_spaces():
    assert clean_text("0\u115f") == "0" and clean_text("\u3164 hi \u2800") == "hi"


def test_clean_event_cleans_words_names_forms_and_ids():
    actor = Actor("U1\x00", "\x1b[31mAnn\x00", email="ann@x\x00", tz="UTC\x00")
    common = dict(platform="slack", workspace_id="T1", event_id="e\x00", actor=actor,
                  channel_id="C\x00")
    message = clean_event(IncomingMessage(**common, text="hi\x00\x1b[0m there"))
    assert message.text == "hi there" and message.event_id == "e" and message.channel_id == "C"
    assert (message.actor.user_id, message.actor.display_name) == ("U1", "Ann")
    assert (message.actor.email, message.actor.tz) == ("ann@x", "UTC")
    command = clean_event(CommandInvoked(**common, name="ticket", text="new \x00\u200b"))
    assert command.text == "new"
    press = clean_event(ButtonPressed(**common, action="card.reply", value="1\x00",
                                      form={"text": "ok\x00\x1b[1m"}))
    assert press.value == "1" and press.form == {"text": "ok"}
    reaction = clean_event(ReactionAdded(**common, emoji="ticket",
                                         message_author=Actor("U2", "Bob\x07"),
                                         message_text="\x1b[2Jhelp"))
    assert reaction.message_author.display_name == "Bob" and reaction.message_text == "help"
