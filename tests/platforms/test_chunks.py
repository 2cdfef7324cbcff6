"""Splitting long text for a platform: in order, nothing lost, nothing cut in two."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from bot.platforms.chunks import split_text, units

MARKUP = re.compile(r"<[^<>\s]{1,40}>|&(?:amp|lt|gt);|https?://\S+")


def visible(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_short_text_is_one_piece():
    assert split_text("Hello", 2000) == ["Hello"]
    assert split_text("", 2000) == [""]


def test_paragraphs_then_lines_then_words():
    text = "a" * 60 + "\n\n" + "b" * 50 + "\n" + "c" * 30 + " " + "d" * 30
    assert split_text(text, 100) == ["a" * 60, "b" * 50, "c" * 30 + " " + "d" * 30]
    text = "a" * 40 + "\n" + "b" * 20 + " " + "c" * 30 + " " + "d" * 30
    assert split_text(text, 100) == ["a" * 40 + "\n" + "b" * 20 + " " + "c" * 30, "d" * 30]


def test_a_mention_or_a_link_is_never_cut():
    url = "https://example.com/" + "x" * 50
    text = "y" * 70 + url  # no space before the link: the cut goes before it
    pieces = split_text(text, 100, MARKUP)
    assert pieces == ["y" * 70, url]
    pieces = split_text("z" * 95 + "<@U123ABC>", 100, MARKUP)
    assert pieces == ["z" * 95, "<@U123ABC>"]
    pieces = split_text("z" * 97 + "&amp;", 100, MARKUP)
    assert pieces == ["z" * 97, "&amp;"]


def test_a_character_seen_as_one_stays_whole():
    family = "👩\u200d👩\u200d👧"  # one emoji made of three and two joiners
    text = "w" * 97 + family
    pieces = split_text(text, 100)
    assert family in pieces[-1] and all(units(p) <= 100 for p in pieces)
    accented = "e\u0301" * 80  # é as a letter and a combining accent
    assert all(not p.startswith("\u0301") for p in split_text(accented, 101))
    flags = "🇫🇷" * 60
    assert all(p and len(p) % 2 == 0 for p in split_text(flags, 100))


def test_emoji_count_as_two_units():
    pieces = split_text("😀" * 1500, 2000)
    assert all(units(p) <= 2000 for p in pieces) and "".join(pieces) == "😀" * 1500


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
    st.sampled_from([" ", "\n", "\n\n", "<@U1234>", "&amp;", "https://x.io/a?b=c",
                     "😀", "e\u0301", "🇫🇷", "👩\u200d👧"])), max_size=200),
    st.integers(min_value=8, max_value=300))
def test_nothing_is_lost_and_every_piece_fits(parts, limit):
    text = "".join(parts)
    pieces = split_text(text, limit, MARKUP)
    assert all(units(piece) <= limit for piece in pieces)
    assert visible("".join(pieces)) == visible(text)
    # Each entity the pieces hold was one in the text (none was made by a cut).
    for piece in pieces:
        for match in MARKUP.finditer(piece):
            assert match.group() in text
