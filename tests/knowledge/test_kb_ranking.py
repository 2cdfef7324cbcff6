"""The text analysis and the confidence behind knowledge-base suggestions, as pure
functions (bot/domain/knowledge.py): no database needed."""

from __future__ import annotations

from collections import Counter

from bot.domain.knowledge import (
    LEAD_TERMS, CorpusStats, Evidence, analyse, confidence, evidence, index_terms, query_slots, rank,
)


def _stats(*articles: tuple[str, tuple[str, ...], str]) -> tuple[CorpusStats, list]:
    stats = CorpusStats()
    candidates = []
    for number, (title, tags, body) in enumerate(articles, 1):
        fields = index_terms(title, tags, body)
        stats.add(fields)
        candidates.append((number, fields))
    return stats, candidates


def test_wont_and_cant_leave_no_stray_word_in_the_index():
    # The rule for "n't" alone turned "won't" into "wo not", so "wo" was an index term
    # that no message typed without the apostrophe ("wont") could meet.
    assert analyse("VPN won\u2019t connect") == ["vpn", "connect"]
    assert analyse("I can't print") == analyse("i cant print") == ["print"]


def test_a_correction_keeps_the_first_letter():
    # "mouse" is one edit from "house" ("hous" once stemmed): a typo that changes the
    # first letter is rare, a real word read as another is not.
    assert [s.term for s in query_slots("my mouse", Counter({"hous": 9}))] == ["mous"]
    assert [s.term for s in query_slots("the pritner", Counter({"printer": 2}))] == [
        "printer"]


def test_a_word_known_by_a_synonym_is_not_read_as_a_typo():
    vocabulary = Counter({"password": 2, "passcods": 5})
    (slot,) = query_slots("passcode", vocabulary)
    assert slot.term == "passcod" and slot.alternatives == ("password",)


_FILLER = " ".join(f"word{i}" for i in range(LEAD_TERMS))


def test_words_met_in_the_title_tags_or_opening_count_fully_deeper_in_the_body_half():
    stats, candidates = _stats(
        ("Printer offline", ("printer",), "Turn it off and on."),
        ("Office move", ("facilities",), f"{_FILLER}. Your printer moves with you; "
                                         "offline drawers too."),
        ("Office move", ("facilities",), f"Your printer moves with you; offline drawers "
                                         f"too. {_FILLER}."),
    )
    slots = query_slots("printer offline", stats.df)
    heading, deep, opening = (evidence(slots, fields, stats) for _, fields in candidates)
    assert heading.coverage == deep.coverage == opening.coverage == 1.0
    assert heading.heading_coverage == opening.heading_coverage == 1.0
    assert deep.heading_coverage == 0.0
    same_score = Evidence(2.0, 1.0, 1.0)
    assert confidence(Evidence(2.0, 1.0, 0.0), stats) == confidence(same_score, stats) / 2


def test_rank_orders_by_score_and_drops_what_does_not_match():
    stats, candidates = _stats(
        ("Printer offline", ("printer",), "Turn it off and on."),
        ("Wi-Fi slow", ("wifi",), "Move closer to the router."),
        ("Printer blank pages", ("printer",), "Check the toner; offline printing "
                                              "queues can also hold pages."),
    )
    ranked = rank(query_slots("printer offline", stats.df), candidates, stats)
    assert [r.key for r in ranked] == [1, 3]
    assert ranked[0].confidence > ranked[1].confidence > 0
