"""``helpdesk-bot kb import`` and ``kb export`` on the command line: idempotent, and a
problem is one line, never a traceback."""

from __future__ import annotations

from bot.config_files import shipped_sample_kb
from tests.test_cli import assert_one_line_error, cli, sqlite_url

SAMPLE = shipped_sample_kb()


def test_import_twice_then_export(tmp_path):
    url = sqlite_url(tmp_path / "desk.sqlite3")
    first = cli(tmp_path, "kb", "import", str(SAMPLE), HELPDESK_DATABASE_URL=url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "imported into console:console: 11 new, 0 updated, 0 skipped"
    again = cli(tmp_path, "kb", "import", str(SAMPLE), HELPDESK_DATABASE_URL=url)
    assert again.stdout.strip() == "imported into console:console: 0 new, 11 updated, 0 skipped"
    out = cli(tmp_path, "kb", "export", str(tmp_path / "out"), HELPDESK_DATABASE_URL=url)
    assert out.stdout.strip() == f"exported 11 article(s) to {tmp_path / 'out'}"
    assert (tmp_path / "out" / "kb-001-the-vpn-keeps-dropping-or-disconnecting.md").is_file()


def test_a_missing_folder_is_one_line(tmp_path):
    url = sqlite_url(tmp_path / "desk.sqlite3")
    result = cli(tmp_path, "kb", "import", str(tmp_path / "nope"), HELPDESK_DATABASE_URL=url)
    assert "is not a folder" in assert_one_line_error(result, 2)


def test_an_unknown_workspace_is_one_line(tmp_path):
    url = sqlite_url(tmp_path / "desk.sqlite3")
    cli(tmp_path, "kb", "import", str(SAMPLE), HELPDESK_DATABASE_URL=url)
    result = cli(tmp_path, "kb", "import", str(SAMPLE), "--workspace", "T999",
                 HELPDESK_DATABASE_URL=url)
    line = assert_one_line_error(result, 2)
    assert "T999" in line and "console:console" in line
