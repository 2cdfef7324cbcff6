"""Spelling correction stays bounded whatever people paste: a token, a hash or a log
line is ordinary help-desk input, and its one-edit spellings must never be built (a
50,000-letter word's would need gigabytes; a reviewer's desk was killed by it)."""

from __future__ import annotations

from bot.domain import knowledge
from bot.domain.knowledge import query_slots

VOCABULARY = {"printer": 3, "laptop": 2, "vpn": 4}


def spy_on_edits(monkeypatch) -> list[int]:
    lengths: list[int] = []
    real = knowledge._edits

    def counting(word: str) -> set[str]:
        lengths.append(len(word))
        return real(word)
    monkeypatch.setattr(knowledge, "_edits", counting)
    return lengths


def test_a_long_word_is_never_spelled_out_one_edit_at_a_time(monkeypatch):
    lengths = spy_on_edits(monkeypatch)
    slots = query_slots("laptop broken " + "A" * 50_000 + " xoxb-1234567890-abcdef", VOCABULARY)
    assert "laptop" in [slot.term for slot in slots]
    assert lengths and max(lengths) <= 20  # "broken", "abcdef"... corrected; the token not


def test_a_pasted_log_corrects_a_bounded_number_of_words(monkeypatch):
    lengths = spy_on_edits(monkeypatch)
    log = " ".join(f"wrdnum{i:05d}" for i in range(5_000))
    query_slots("the pritner says " + log, VOCABULARY)
    # a word, and its stem when the word itself is one edit from nothing the articles use
    assert knowledge.MAX_CORRECTIONS <= len(lengths) <= 2 * knowledge.MAX_CORRECTIONS


def test_a_misspelt_word_is_still_corrected():
    assert [slot.term for slot in query_slots("the pritner jams", VOCABULARY)][0] == "printer"
