"""A downgrade names its target, and one that empties the database needs --yes."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from bot.storage.migrate import alembic_config, downgrade_problem, head_revision


def _revisions() -> list[str]:
    """Every revision, newest first."""
    return [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]


def test_a_downgrade_without_a_target_names_one_step_down_and_base():
    problem = downgrade_problem(None, yes=True, current=head_revision())
    assert problem.startswith("--downgrade needs --revision") and f"--revision {_revisions()[1]}" in problem


def test_a_target_that_lands_on_base_needs_yes_however_it_is_written():
    head = head_revision()
    depth = len(_revisions())
    for revision in ("base", f"-{depth}", "-99"):
        assert "--yes" in downgrade_problem(revision, yes=False, current=head), revision
        assert downgrade_problem(revision, yes=True, current=head) is None
    for revision in ("-1", f"-{depth - 1}", _revisions()[-2]):
        assert downgrade_problem(revision, yes=False, current=head) is None, revision
