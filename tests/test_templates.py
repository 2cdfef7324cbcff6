"""Templates count properly: "once", "2 times", "1 ticket", "3 tickets", never "time(s)"."""

from __future__ import annotations

from bot.templates import Templates, load_templates


def test_a_count_chooses_its_own_word():
    t = Templates({"a": {"b": "missed {n:once|# times in a row}; {n:ticket|tickets} open"}})
    assert t.render("a.b", n=1) == "missed once; 1 ticket open"
    assert t.render("a.b", n=2) == "missed 2 times in a row; 2 tickets open"
    assert t.render("a.b", n=0) == "missed 0 times in a row; 0 tickets open"


def test_counts_without_a_choice_read_as_numbers():
    t = Templates({"a": {"b": "{n} and {n:02d} and {name}"}})
    assert t.render("a.b", n=3, name="Sam") == "3 and 03 and Sam"


def test_no_ledger_template_writes_a_plural_in_brackets():
    templates = load_templates()
    for key in templates.keys():
        if key.split(".")[0] in ("lapse", "timeline", "work", "policy", "report"):
            assert "(s)" not in str(templates.raw(key)), key
