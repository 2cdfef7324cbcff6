"""A downgrade names its target, and one that empties the database needs --yes."""

from __future__ import annotations

from bot.storage.migrate import downgrade_problem, head_revision


def test_a_downgrade_without_a_target_names_one_step_down_and_base():
    problem = downgrade_problem(None, yes=True, current=head_revision())
    assert problem.startswith("--downgrade needs --revision") and "--revision 0003" in problem


def test_a_target_that_lands_on_base_needs_yes_however_it_is_written():
    head = head_revision()
    for revision in ("base", "-4", "-9"):
        assert "--yes" in downgrade_problem(revision, yes=False, current=head), revision
        assert downgrade_problem(revision, yes=True, current=head) is None
    for revision in ("-1", "-3", "0002"):
        assert downgrade_problem(revision, yes=False, current=head) is None, revision
