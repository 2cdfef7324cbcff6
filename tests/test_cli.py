"""End-to-end tests of the ``helpdesk-bot`` command line, run as a real subprocess.

Each test runs ``python -m bot`` (and once the installed ``helpdesk-bot`` script) in a
temporary working directory with a clean environment: no HELPDESK_*, SLACK_* or
DISCORD_* variable leaks in from the developer's shell, and no ``.env`` is found.
The contract under test: configuration and database problems end in exactly one line
on stderr starting with ``helpdesk-bot:``, a non-zero exit status, no traceback, and
never a secret.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.migrate import head_revision

TIMEOUT = 60
_PREFIXES = ("HELPDESK_", "SLACK_", "DISCORD_")


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without the bot's own variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES)}
    env.update(extra)
    return env


def cli(tmp_path: Path, *args: str, input: str | None = None,
        command: list[str] | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the bot's command line in ``tmp_path`` with ``env`` added to a clean environment."""
    kwargs: dict = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(
        [*(command or [sys.executable, "-m", "bot"]), *args],
        cwd=tmp_path, env=clean_env(**env), capture_output=True, text=True,
        timeout=TIMEOUT, **kwargs,
    )


def free_port() -> str:
    """A port free a moment ago, for a command that binds the web server's address
    (`check` tries it): the default 3000 may be taken on a shared machine."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The failure contract: exit ``code``, one ``helpdesk-bot:`` line, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("helpdesk-bot: ")
    return lines[0]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file (not yet created) in the test's folder."""
    return sqlite_url(tmp_path / "x.sqlite3")


# --- help -----------------------------------------------------------------------------


@pytest.mark.parametrize("args, expected", [
    ((), ["usage: helpdesk-bot", "run", "migrate", "check"]),
    (("run",), ["usage: helpdesk-bot run", "--console", "--no-migrate"]),
    (("migrate",), ["usage: helpdesk-bot migrate", "--revision", "--downgrade"]),
    (("check",), ["usage: helpdesk-bot check", "Secrets are never printed"]),
    (("init",), ["usage: helpdesk-bot init", "--force", "never replaced"]),
])
def test_help(tmp_path, args, expected):
    result = cli(tmp_path, *args, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for text in expected:
        assert text in result.stdout


def test_installed_console_script_runs(tmp_path):
    script = Path(sys.executable).with_name("helpdesk-bot")
    if not script.exists():
        pytest.skip("the helpdesk-bot console script is not installed beside this Python")
    result = cli(tmp_path, "--help", command=[str(script)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: helpdesk-bot")


def test_no_command_prints_help_and_exits_2(tmp_path):
    result = cli(tmp_path)
    assert result.returncode == 2
    assert "usage: helpdesk-bot" in result.stdout


def test_unknown_command_is_a_usage_error(tmp_path):
    result = cli(tmp_path, "serve")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


# --- run --console --------------------------------------------------------------------


def test_console_opens_ticket_one_on_a_fresh_database(tmp_path, db_url):
    result = cli(tmp_path, "run", "--console", input="My VPN keeps dropping\n",
                 HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    assert "#1" in result.stdout
    assert "My VPN keeps dropping" in result.stdout
    assert "Traceback" not in result.stderr
    assert (tmp_path / "x.sqlite3").is_file()


def test_second_console_run_on_the_same_database_opens_ticket_two(tmp_path, db_url):
    first = cli(tmp_path, "run", "--console", input="My VPN keeps dropping\n",
                HELPDESK_DATABASE_URL=db_url)
    assert first.returncode == 0 and "#1" in first.stdout, first.stderr
    # Another requester: Alex still has #1 open, so Alex would be asked "same or new?".
    second = cli(tmp_path, "run", "--console", input="/as requester Bea\nThe printer is on fire\n",
                 HELPDESK_DATABASE_URL=db_url)
    assert second.returncode == 0, second.stderr
    assert "#2" in second.stdout
    assert "The printer is on fire" in second.stdout
    assert "#1" not in second.stdout


def test_console_with_empty_input_exits_cleanly(tmp_path, db_url):
    result = cli(tmp_path, "run", "--console", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


# --- migrate --------------------------------------------------------------------------


def test_migrate_up_then_down_to_base(tmp_path, db_url):
    head = head_revision()
    up = cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=db_url)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == f"database at revision {head}"
    with sqlite3.connect(tmp_path / "x.sqlite3") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tickets", "alembic_version"} <= tables

    again = cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=db_url)
    assert again.returncode == 0 and again.stdout.strip() == f"database at revision {head}"

    down = cli(tmp_path, "migrate", "--downgrade", "--revision", "base", "--yes",
               HELPDESK_DATABASE_URL=db_url)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == "database at revision base (empty)"
    with sqlite3.connect(tmp_path / "x.sqlite3") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "tickets" not in tables


def test_a_downgrade_without_a_revision_says_what_it_needs_and_changes_nothing(tmp_path,
                                                                              db_url):
    assert cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=db_url).returncode == 0
    result = cli(tmp_path, "migrate", "--downgrade", HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "--downgrade needs --revision" in line
    from alembic.script import ScriptDirectory
    from bot.storage.migrate import alembic_config
    below = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()][1]
    assert below in line and "base" in line  # the revision one step down, and the bottom
    assert cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=db_url).stdout.strip() == \
        f"database at revision {head_revision()}"


def test_a_downgrade_to_base_asks_for_yes_and_changes_nothing_without_it(tmp_path, db_url):
    assert cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=db_url).returncode == 0
    result = cli(tmp_path, "migrate", "--downgrade", "--revision", "base",
                 HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "every table" in line and "--yes" in line
    with sqlite3.connect(tmp_path / "x.sqlite3") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "tickets" in tables


def test_migrate_to_an_unknown_revision_is_one_line(tmp_path, db_url):
    result = cli(tmp_path, "migrate", "--revision", "nonsense", HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "nonsense" in line


# --- configuration errors -------------------------------------------------------------

COMMANDS = [("run", "--console"), ("migrate",), ("check",)]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_malformed_toml_config_is_one_line_naming_the_file(tmp_path, db_url, args):
    config = tmp_path / "broken.toml"
    config.write_text("[helpdesk\ndatabase_url = \n", encoding="utf-8")
    result = cli(tmp_path, *args, HELPDESK_CONFIG=str(config), HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert str(config) in line
    assert "not valid TOML" in line
    assert result.stdout == ""


def test_missing_toml_config_is_one_line(tmp_path, db_url):
    missing = tmp_path / "absent.toml"
    result = cli(tmp_path, "check", HELPDESK_CONFIG=str(missing), HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert str(missing) in line and "does not exist" in line


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_unknown_setting_is_one_line_with_a_suggestion(tmp_path, args):
    result = cli(tmp_path, *args, HELPDESK_DATABSE_URL=sqlite_url(tmp_path / "typo.sqlite3"))
    line = assert_one_line_error(result, 2)
    assert "HELPDESK_DATABSE_URL" in line
    assert "did you mean HELPDESK_DATABASE_URL?" in line
    assert not (tmp_path / "typo.sqlite3").exists()


def test_unknown_setting_in_dot_env_in_working_directory(tmp_path):
    (tmp_path / ".env").write_text("HELPDESK_TICK_SECOND=2\n", encoding="utf-8")
    result = cli(tmp_path, "check")
    line = assert_one_line_error(result, 2)
    assert line == ("helpdesk-bot: .env: unknown setting HELPDESK_TICK_SECOND "
                    "(did you mean HELPDESK_TICK_SECONDS?).")


def test_invalid_value_is_one_line(tmp_path, db_url):
    result = cli(tmp_path, "run", "--console", HELPDESK_HTTP_PORT="lots",
                 HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "HELPDESK_HTTP_PORT" in line and "whole number" in line


def test_invalid_log_level_is_one_line(tmp_path, db_url):
    result = cli(tmp_path, "run", "--console", HELPDESK_LOG_LEVEL="LOUD",
                 HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "HELPDESK_LOG_LEVEL" in line and "LOUD" in line


def test_unknown_time_zone_for_run_is_one_line(tmp_path, db_url):
    result = cli(tmp_path, "run", "--console", HELPDESK_TIMEZONE="Mars/Olympus",
                 HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "Mars/Olympus" in line


def config_dir_copy(tmp_path: Path, *, drop: str = "", append_to: str = "") -> Path:
    """A copy of the shipped config files, with one dropped or broken."""
    shipped = Path(__file__).resolve().parent.parent / "bot" / "config"
    folder = tmp_path / "myconfig"
    folder.mkdir()
    for name in ("messages.toml", "policy.toml", "tips.toml"):
        if name != drop:
            text = (shipped / name).read_text(encoding="utf-8")
            (folder / name).write_text(text + ("\n[[[\n" if name == append_to else ""),
                                       encoding="utf-8")
    return folder


def test_malformed_policy_file_is_not_called_a_database_problem(tmp_path, db_url):
    folder = config_dir_copy(tmp_path, append_to="policy.toml")
    result = cli(tmp_path, "run", "--console", HELPDESK_CONFIG_DIR=str(folder),
                 HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert str(folder / "policy.toml") in line and "not valid TOML" in line
    assert "database" not in line


def test_malformed_messages_file_for_run_is_one_line(tmp_path, db_url):
    folder = config_dir_copy(tmp_path, append_to="messages.toml")
    result = cli(tmp_path, "run", "--console", HELPDESK_CONFIG_DIR=str(folder),
                 HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert str(folder / "messages.toml") in line


def test_check_reports_a_malformed_policy_file(tmp_path, db_url):
    folder = config_dir_copy(tmp_path, append_to="policy.toml")
    result = cli(tmp_path, "check", HELPDESK_CONFIG_DIR=str(folder),
                 HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 2  # as `run` exits: a configuration problem
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem")]
    assert len(problems) == 1 and "policy.toml" in problems[0]
    assert "Traceback" not in result.stderr


def test_a_config_folder_with_only_messages_keeps_the_shipped_policy(tmp_path, db_url):
    # File by file: the operator rewords one sentence; hours and SLA stay as shipped.
    folder = tmp_path / "myconfig"
    folder.mkdir()
    (folder / "messages.toml").write_text(
        '[intake]\nack = "Got it, {requester}: ticket {ref}. {eta}"\n', encoding="utf-8")
    result = cli(tmp_path, "run", "--console", input="My VPN keeps dropping\n",
                 HELPDESK_CONFIG_DIR=str(folder), HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    assert "Got it, Alex: ticket #1." in result.stdout
    assert "I've opened ticket" not in result.stdout
    check = cli(tmp_path, "check", HELPDESK_CONFIG_DIR=str(folder),
                HELPDESK_DATABASE_URL=db_url)
    assert check.returncode == 0, check.stdout
    assert (f"from {folder}: messages.toml (over the shipped one); as shipped: "
            "policy.toml and tips.toml") in check.stdout


@pytest.mark.parametrize("args", [("run", "--console"), ("check",)], ids=lambda a: a[0])
def test_a_config_folder_holding_none_of_the_files_is_refused(tmp_path, db_url, args):
    # A folder named on purpose is used or refused, never silently replaced by defaults.
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli(tmp_path, *args, HELPDESK_CONFIG_DIR=str(empty), HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 2
    said = result.stderr if args[0] == "run" else result.stdout
    assert f"HELPDESK_CONFIG_DIR is {empty}, which holds none of messages.toml" in said
    assert "helpdesk-bot init" in said


def test_a_relative_config_folder_is_named_with_the_folder_it_was_looked_for_in(tmp_path,
                                                                               db_url):
    # init writes HELPDESK_CONFIG_DIR=config; run from elsewhere, the line says where.
    result = cli(tmp_path, "check", HELPDESK_CONFIG_DIR="config", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 2
    assert f"HELPDESK_CONFIG_DIR is config (in {tmp_path}), which is not a folder" in (
        result.stdout)


def test_a_missing_config_folder_is_refused_in_one_line(tmp_path, db_url):
    result = cli(tmp_path, "run", "--console", HELPDESK_CONFIG_DIR=str(tmp_path / "nowhere"),
                 HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert f"HELPDESK_CONFIG_DIR is {tmp_path / 'nowhere'}, which is not a folder" in line


# --- database errors ------------------------------------------------------------------

UNREACHABLE = "postgresql://postgres:s3cretpw@127.0.0.1:1/test"


@pytest.mark.parametrize("args", [("run", "--console"), ("migrate",)], ids=lambda a: a[0])
def test_unreachable_database_is_one_line_without_the_password(tmp_path, args):
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=UNREACHABLE)
    line = assert_one_line_error(result, 1)
    assert "cannot reach the database" in line
    assert "127.0.0.1:1" in line
    assert "s3cretpw" not in result.stdout + result.stderr


def test_check_reports_unreachable_database_without_the_password(tmp_path):
    result = cli(tmp_path, "check", HELPDESK_DATABASE_URL=UNREACHABLE)
    assert result.returncode == 1
    assert "problem  cannot reach the database" in result.stdout
    assert "s3cretpw" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("run", "--console"), ("migrate",)], ids=lambda a: a[0])
def test_sqlite_file_in_a_missing_folder_is_one_clear_line(tmp_path, args):
    folder = tmp_path / "no" / "such" / "folder"
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=sqlite_url(folder / "x.sqlite3"))
    line = assert_one_line_error(result, 2)
    assert "folder" in line and str(folder) in line
    assert not folder.exists()


def test_check_reports_a_missing_sqlite_folder(tmp_path):
    folder = tmp_path / "nowhere"
    result = cli(tmp_path, "check", HELPDESK_DATABASE_URL=sqlite_url(folder / "x.sqlite3"))
    assert result.returncode == 2  # as `run` and `migrate` exit for it
    assert f"problem  the folder for the SQLite database does not exist: {folder}" in result.stdout


# --- check ----------------------------------------------------------------------------


def test_check_reports_missing_slack_signing_secret_without_the_token(tmp_path, db_url):
    result = cli(tmp_path, "check", SLACK_BOT_TOKEN="xoxb-verysecret-123",
                 HELPDESK_DATABASE_URL=db_url, HELPDESK_HTTP_PORT=free_port())
    assert result.returncode == 2  # as `run` exits: a configuration problem
    assert "SLACK_SIGNING_SECRET is missing" in result.stdout
    assert "1 problem found" in result.stdout
    assert "verysecret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("check",), ("run", "--console")], ids=lambda a: a[0])
def test_a_short_secret_key_is_refused_by_check_and_run_alike(tmp_path, db_url, args):
    result = cli(tmp_path, *args, HELPDESK_SECRET_KEY="short-but-secret-1",
                 HELPDESK_DATABASE_URL=db_url, input="My VPN keeps dropping\n")
    line = assert_one_line_error(result, 2)
    assert "HELPDESK_SECRET_KEY" in line and "32 or more random characters when set" in line
    assert "it signs the dashboard's links and sessions" in line
    assert "short-but-secret-1" not in result.stdout + result.stderr
    assert "#1" not in result.stdout


@pytest.mark.parametrize("host", ["127.0.0.1", "192.0.2.1"], ids=["port-taken", "not-ours"])
def test_check_says_what_run_says_when_the_web_server_cannot_listen(tmp_path, db_url, host):
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = dict(HELPDESK_HTTP_HOST=host, HELPDESK_HTTP_PORT=port,
                   HELPDESK_DATABASE_URL=db_url)
        run = cli(tmp_path, "run", "--console", input="", **env)
        check = cli(tmp_path, "check", **env)
    said = assert_one_line_error(run, 2).removeprefix("helpdesk-bot: ")
    assert f"the web server cannot listen on {host}:{port}" in said
    assert check.returncode == 2, check.stdout
    assert f"problem  {said}" in check.stdout and "all good" not in check.stdout


def test_check_takes_a_long_secret_key_without_showing_it(tmp_path, db_url):
    key = "k3y-" * 10
    result = cli(tmp_path, "check", HELPDESK_SECRET_KEY=key, HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stdout
    assert "HELPDESK_SECRET_KEY is set" in result.stdout and key not in result.stdout


def test_check_says_where_the_web_server_is_reached(tmp_path, db_url):
    result = cli(tmp_path, "check", HELPDESK_HTTP_PORT="8123",
                 HELPDESK_PUBLIC_URL="https://desk.example.com", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stdout
    assert ("web server on 0.0.0.0:8123 (/healthz, /readyz, /metrics), reached at "
            "https://desk.example.com") in result.stdout


def test_check_without_platform_credentials_on_a_fresh_database_is_all_good(tmp_path, db_url):
    result = cli(tmp_path, "check", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "problem" not in result.stdout
    assert "no platform credentials" in result.stdout
    assert result.stdout.rstrip().endswith("all good")


def test_check_shows_the_log_format_and_the_retention(tmp_path, sqlite_url):
    result = cli(tmp_path, "check", HELPDESK_DATABASE_URL=sqlite_url, HELPDESK_LOG_FORMAT="json",
                 HELPDESK_RETENTION_DAYS="45")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("ok       logs as json; sent messages and event ids are kept 45 days (tickets, "
            "timelines and promises for good)") in result.stdout
    refused = cli(tmp_path, "check", HELPDESK_DATABASE_URL=sqlite_url, HELPDESK_RETENTION_DAYS="0")
    assert refused.returncode == 2
    assert "HELPDESK_RETENTION_DAYS has an invalid value (0); expected a whole number of days, " \
           "1 or more." in refused.stderr


def test_discord_invite_prints_the_url_with_the_bots_permissions(tmp_path):
    import base64
    token = base64.urlsafe_b64encode(b"123456789012345678").decode().rstrip("=") + ".x.secretpart"
    result = cli(tmp_path, "discord-invite", DISCORD_BOT_TOKEN=token)
    assert result.returncode == 0, result.stderr
    assert "client_id=123456789012345678" in result.stdout
    assert "scope=bot+applications.commands" in result.stdout and "permissions=" in result.stdout
    assert "secretpart" not in result.stdout + result.stderr


def test_discord_invite_without_an_id_says_what_to_give(tmp_path):
    result = cli(tmp_path, "discord-invite")
    line = assert_one_line_error(result, 2)
    assert "--application-id" in line


def test_version(tmp_path):
    from importlib.metadata import version
    result = cli(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"helpdesk-bot {version('helpdesk-bot')}"


# --- check exits as run would (issue 14) ------------------------------------------------


def test_readme_and_code_agree_on_exit_statuses():
    from bot import check
    from bot.__main__ import EXIT_CONFIG, EXIT_RUNTIME
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert (EXIT_CONFIG, EXIT_RUNTIME) == (check.EXIT_CONFIG, check.EXIT_RUNTIME) == (2, 1)
    said = " ".join(readme.split())
    assert "exit status 2 for a configuration problem, 1 for a database problem" in said
    assert "`check` exits with the status `run` would" in said


@pytest.mark.parametrize("args", [("check",), ("run", "--console"), ("migrate",)],
                         ids=lambda a: a[0])
def test_out_of_range_port_is_a_configuration_error_everywhere(tmp_path, db_url, args):
    result = cli(tmp_path, *args, HELPDESK_HTTP_PORT="99999", HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "HELPDESK_HTTP_PORT" in line and "1 to 65535" in line


@pytest.mark.parametrize("args", [("check",), ("run", "--console")], ids=lambda a: a[0])
def test_unknown_time_zone_is_a_configuration_error_everywhere(tmp_path, db_url, args):
    result = cli(tmp_path, *args, HELPDESK_TIMEZONE="Mars/Olympus", HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert "HELPDESK_TIMEZONE" in line and "Mars/Olympus" in line


def test_check_exits_1_for_a_database_problem_alone(tmp_path):
    result = cli(tmp_path, "check", HELPDESK_DATABASE_URL=UNREACHABLE)
    assert result.returncode == 1
    assert result.stdout.rstrip().endswith("1 problem found")


@pytest.mark.parametrize("args", [("check",), ("run", "--console")], ids=lambda a: a[0])
def test_likely_typo_of_a_platform_variable_is_a_configuration_error(tmp_path, db_url, args):
    result = cli(tmp_path, *args, SLACK_BOT_TOKN="xoxb-typo-secret", HELPDESK_DATABASE_URL=db_url,
                 input="hello\n")
    line = assert_one_line_error(result, 2)
    assert line == ("helpdesk-bot: environment: unknown setting SLACK_BOT_TOKN "
                    "(did you mean SLACK_BOT_TOKEN?).")
    assert "typo-secret" not in result.stdout + result.stderr
    assert result.stdout == ""  # the console did not start instead


def test_run_with_no_platform_and_nobody_to_type_says_so_and_exits_2(tmp_path, db_url):
    # A container started before its tokens are filled in (no -i: stdin is /dev/null)
    # must not exit 0 in silence, to be restarted for ever: one line, and exit 2.
    result = cli(tmp_path, "run", HELPDESK_DATABASE_URL=db_url)  # stdin=DEVNULL
    line = assert_one_line_error(result, 2)
    assert "no platform credentials" in line and "--console" in line
    assert "SLACK_BOT_TOKEN" in line and "DISCORD_BOT_TOKEN" in line
    assert result.stdout == ""
    assert not (tmp_path / "helpdesk-console.log").exists()


def test_run_with_no_platform_and_a_pipe_is_the_console(tmp_path, db_url):
    # `printf ... | helpdesk-bot run` is someone typing: the console, as the README says.
    result = cli(tmp_path, "run", HELPDESK_DATABASE_URL=db_url, input="My VPN keeps dropping\n")
    assert result.returncode == 0, result.stderr
    assert "#1" in result.stdout


def test_a_missing_env_file_named_by_helpdesk_env_file_is_one_line(tmp_path, db_url):
    absent = tmp_path / "absent.env"
    result = cli(tmp_path, "check", HELPDESK_ENV_FILE=str(absent), HELPDESK_DATABASE_URL=db_url)
    line = assert_one_line_error(result, 2)
    assert f"HELPDESK_ENV_FILE names {absent}, which does not exist" in line


def test_unparsable_dot_env_line_stops_run_before_the_console_starts(tmp_path, db_url):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN: xoxb-colon-secret\n", encoding="utf-8")
    result = cli(tmp_path, "run", HELPDESK_DATABASE_URL=db_url, input="hello\n")
    line = assert_one_line_error(result, 2)
    assert line.startswith("helpdesk-bot: .env, line 1: not a NAME=value line")
    assert "colon-secret" not in result.stdout + result.stderr
    assert result.stdout == ""


# --- the database's schema, named as it is (issue 14) -----------------------------------


def previous_revision() -> str:
    from alembic.script import ScriptDirectory
    from bot.storage.migrate import alembic_config
    return ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision


@pytest.mark.parametrize("how", ["--no-migrate", "HELPDESK_AUTO_MIGRATE=false"])
def test_run_without_migrating_an_empty_database_says_so(tmp_path, db_url, how):
    env = {"HELPDESK_DATABASE_URL": db_url}
    args = ["run", "--console"]
    if how.startswith("--"):
        args.append(how)
    else:
        env["HELPDESK_AUTO_MIGRATE"] = "false"
    result = cli(tmp_path, *args, input="My VPN keeps dropping\n", **env)
    line = assert_one_line_error(result, 1)
    assert "has no tables yet" in line and "`helpdesk-bot migrate`" in line
    assert "cannot reach" not in line
    assert result.stdout == ""


def test_run_without_migrating_an_old_schema_names_both_revisions(tmp_path, db_url):
    old = previous_revision()
    assert cli(tmp_path, "migrate", "--revision", old, HELPDESK_DATABASE_URL=db_url).returncode == 0
    result = cli(tmp_path, "run", "--console", "--no-migrate", HELPDESK_DATABASE_URL=db_url,
                 input="hello\n")
    line = assert_one_line_error(result, 1)
    assert f"schema is at revision {old}, the code needs {head_revision()}" in line
    assert "`helpdesk-bot migrate`" in line


def test_run_on_a_schema_newer_than_the_code_says_so(tmp_path, db_url):
    assert cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=db_url).returncode == 0
    with sqlite3.connect(tmp_path / "x.sqlite3") as db:
        db.execute("UPDATE alembic_version SET version_num = 'f00dcafe'")
    result = cli(tmp_path, "run", "--console", HELPDESK_DATABASE_URL=db_url, input="hello\n")
    line = assert_one_line_error(result, 1)
    assert "revision f00dcafe" in line and "does not know" in line


def test_check_with_auto_migrate_off_names_the_empty_schema_and_the_fix(tmp_path, db_url):
    result = cli(tmp_path, "check", HELPDESK_AUTO_MIGRATE="false", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 1, result.stdout
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem")]
    assert len(problems) == 1
    assert "has no tables yet" in problems[0] and "`helpdesk-bot migrate`" in problems[0]
    assert "will be migrated" not in result.stdout


def test_check_with_auto_migrate_off_names_an_old_schema(tmp_path, db_url):
    old = previous_revision()
    assert cli(tmp_path, "migrate", "--revision", old, HELPDESK_DATABASE_URL=db_url).returncode == 0
    result = cli(tmp_path, "check", HELPDESK_AUTO_MIGRATE="false", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 1
    assert f"schema is at revision {old}, the code needs {head_revision()}" in result.stdout
    assert "will be migrated" not in result.stdout


def test_check_with_auto_migrate_on_says_what_start_will_do(tmp_path, db_url):
    result = cli(tmp_path, "check", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stdout
    assert "has no tables yet; `helpdesk-bot run` creates them" in result.stdout


# --- a database the desk may not write (issue 14) ---------------------------------------
#
# As root, file permissions do not stop writes (CAP_DAC_OVERRIDE). The bot is then run
# without that capability (setpriv), so the permission bits bind it as they bind any
# other user; where setpriv is missing those tests skip. The `mode=ro` URL needs no
# privilege games and runs everywhere. PostgreSQL is covered below with a role granted
# only SELECT and a role whose sessions are read-only (as on a standby). Not covered: a
# database that becomes read-only while the desk is already serving.


def unprivileged() -> list[str]:
    """A command prefix under which file permissions apply to this process."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    try:
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    except FileNotFoundError:
        pass
    pytest.skip("running as root without setpriv: file permissions cannot bind the bot")


def migrated(tmp_path: Path, db_url: str) -> Path:
    result = cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    return tmp_path / "x.sqlite3"


@pytest.fixture
def read_only_file(tmp_path, db_url):
    path = migrated(tmp_path, db_url)
    path.chmod(0o444)
    yield path
    path.chmod(0o644)


@pytest.fixture
def read_only_folder(tmp_path, db_url):
    folder = tmp_path / "ro"
    folder.mkdir()
    url = sqlite_url(folder / "x.sqlite3")
    assert cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=url).returncode == 0
    folder.chmod(0o555)
    yield folder, url
    folder.chmod(0o755)


def test_check_names_a_read_only_database_file(tmp_path, db_url, read_only_file):
    result = cli(tmp_path, "check", HELPDESK_DATABASE_URL=db_url,
                 command=[*unprivileged(), sys.executable, "-m", "bot"])
    assert result.returncode == 1, result.stdout
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem")]
    assert len(problems) == 1, result.stdout
    assert str(read_only_file) in problems[0] and "read-only" in problems[0]
    assert "all good" not in result.stdout


def test_run_on_a_read_only_database_file_is_one_line(tmp_path, db_url, read_only_file):
    result = cli(tmp_path, "run", "--console", HELPDESK_DATABASE_URL=db_url,
                 input="My VPN keeps dropping\nAnd the printer\n",
                 command=[*unprivileged(), sys.executable, "-m", "bot"])
    line = assert_one_line_error(result, 1)
    assert str(read_only_file) in line and "read-only" in line
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("check",), ("run", "--console")], ids=lambda a: a[0])
def test_a_read_only_folder_is_named_with_why_sqlite_needs_it(tmp_path, read_only_folder, args):
    folder, url = read_only_folder
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=url, input="hello\n",
                 command=[*unprivileged(), sys.executable, "-m", "bot"])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    said = result.stdout if args[0] == "check" else result.stderr
    assert f"the folder {folder} is not writable" in said and "journal" in said


def test_migrate_on_an_empty_read_only_folder_is_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = cli(tmp_path, "migrate", HELPDESK_DATABASE_URL=sqlite_url(folder / "x.sqlite3"),
                     command=[*unprivileged(), sys.executable, "-m", "bot"])
    finally:
        folder.chmod(0o755)
    line = assert_one_line_error(result, 1)
    assert f"the folder {folder} is not writable" in line


@pytest.mark.parametrize("args", [("check",), ("run", "--console")], ids=lambda a: a[0])
def test_a_read_only_sqlite_uri_is_named(tmp_path, db_url, args):
    path = migrated(tmp_path, db_url)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=url, input="hello\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    said = result.stdout if args[0] == "check" else result.stderr
    assert "read-only" in said and "mode=ro" in said


@pytest.mark.parametrize("query", ["mode=ro", "immutable=1", "mode=ro&timeout=5"])
@pytest.mark.parametrize("args", [("check",), ("run", "--console"), ("migrate",)],
                         ids=lambda a: a[0])
def test_a_read_only_request_without_uri_true_is_named_too(tmp_path, db_url, args, query):
    # Without uri=true SQLAlchemy ignores mode=ro with a raw SAWarning and opens the file
    # writable: the desk says plainly what the URL asks for instead, and stops.
    path = migrated(tmp_path, db_url)
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=f"sqlite:///{path}?{query}",
                 input="hello\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    said = result.stdout + result.stderr
    assert f"the SQLite database {path} is read-only by its URL" in said


@pytest.mark.parametrize("args", [("check",), ("run", "--console"), ("migrate",)],
                         ids=lambda a: a[0])
def test_a_sqlite_parameter_the_driver_ignores_is_a_configuration_error(tmp_path, args):
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}?jounral_mode=wal"
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=url, input="hello\n")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert "SQLite does not take jounral_mode" in result.stdout + result.stderr


@pytest.mark.parametrize("args", [("check",), ("run", "--console"), ("migrate",)],
                         ids=lambda a: a[0])
def test_a_folder_where_the_database_file_should_be(tmp_path, args):
    folder = tmp_path / "x.sqlite3"
    folder.mkdir()
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=sqlite_url(folder), input="hello\n")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"{folder} is a folder, not a SQLite database file" in result.stdout + result.stderr


# --- secrets in the database URL's query string (issue 14) --------------------------------


@pytest.mark.parametrize("key", ["password", "pass", "pwd", "sslpassword", "token", "secret",
                                 "key", "api_key", "PASSWORD"])
@pytest.mark.parametrize("args", [("check",), ("run", "--console"), ("migrate",)],
                         ids=lambda a: a[0])
def test_secret_in_the_query_string_is_never_printed(tmp_path, key, args):
    url = f"postgresql://desk@127.0.0.1:1/test?{key}=qu3rysecret&application_name=desk"
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=url, HELPDESK_LOG_LEVEL="DEBUG",
                 input="hello\n")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "qu3rysecret" not in result.stdout + result.stderr
    assert f"{key}=***" in result.stdout + result.stderr
    assert "application_name=desk" in result.stdout + result.stderr  # only secrets hidden


@pytest.mark.parametrize("url", [
    "postgresql://desk:s3cretpw@db.example:notaport/test",
    "postgresql://desk:s3cretpw@[::1/test",
    "postgresql://desk@127.0.0.1:1/test?sslpassword=s3cretpw&sslmode=require",
    "postgresql://desk:s3cretpw@127.0.0.1:1/test?password=s3cretpw",
])
@pytest.mark.parametrize("args", [("check",), ("run", "--console"), ("migrate",)],
                         ids=lambda a: a[0])
def test_malformed_or_refused_urls_never_show_their_secret(tmp_path, url, args):
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=url, input="hello\n")
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
    assert "s3cretpw" not in result.stdout + result.stderr


# --- the same questions asked of PostgreSQL (in process) ----------------------------------


@pytest.fixture
async def postgres_reader(postgres_url):
    """A login role that may read the desk's tables but not change them."""
    from sqlalchemy.engine import make_url as parse
    from bot.storage.uow import Database
    from tests.support.harness import reset_schema
    role = f"helpdesk_reader_{os.getpid()}"
    db = Database.from_url(postgres_url)
    await reset_schema(db)
    url = parse(postgres_url)
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        await connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        await connection.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{url.database}" TO "{role}"')
        await connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        await connection.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        yield role, url.set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            await connection.exec_driver_sql(f'DROP ROLE "{role}"')
        await db.dispose()


@pytest.mark.postgres
async def test_check_names_postgres_tables_the_user_may_not_change(postgres_reader):
    from bot.check import database_findings
    from bot.settings import Settings
    _, url = postgres_reader
    finding = await database_findings(Settings(database_url=url), will_migrate=True)
    assert not finding.ok and finding.exit_status == 1
    assert "the database user may not change these tables" in finding.message
    assert "tickets" in finding.message and "GRANT" in finding.message


@pytest.mark.postgres
async def test_check_names_a_read_only_postgres_session(postgres_reader, postgres_url):
    from bot.check import database_findings
    from bot.settings import Settings
    from bot.storage.uow import Database
    role, url = postgres_reader
    db = Database.from_url(postgres_url)
    try:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql(
                f'ALTER ROLE "{role}" SET default_transaction_read_only = on')
    finally:
        await db.dispose()
    finding = await database_findings(Settings(database_url=url), will_migrate=True)
    assert not finding.ok and finding.exit_status == 1
    assert "is read-only (a standby, or default_transaction_read_only is on)" in finding.message


@pytest.mark.postgres
async def test_check_on_a_writable_postgres_database_is_ok(postgres_url):
    from bot.check import database_findings
    from bot.settings import Settings
    from bot.storage import migrate
    from bot.storage.tables import Base
    from bot.storage.uow import Database
    db = Database.from_url(postgres_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        await migrate.upgrade(db.engine)
    finally:
        await db.dispose()
    # libpq's sslmode, as many hosted PostgreSQL URLs carry it, works with asyncpg too.
    finding = await database_findings(Settings(database_url=postgres_url + "?sslmode=disable"),
                                      will_migrate=False)
    assert finding.ok, finding.message
    assert "is at the latest schema" in finding.message


def test_a_driver_error_quoting_the_url_is_masked():
    from sqlalchemy.exc import OperationalError
    from bot.storage.engine import describe_database_error
    url = "postgresql://desk:pw-in-userinfo@db:5432/desk?sslpassword=pw-in-query&sslmode=require"
    error = OperationalError("connect", {}, Exception(
        f'could not connect using "{url}": password pw-in-userinfo rejected'))
    config, message = describe_database_error(error, url)
    assert not config
    assert message.startswith("cannot reach the database at postgresql://desk:***@db:5432/desk")
    assert "pw-in-userinfo" not in message and "pw-in-query" not in message


def test_with_no_platform_check_and_migrate_use_the_consoles_database(tmp_path):
    # `run` with no tokens is the console on helpdesk-console.sqlite3; check and migrate
    # must speak of that file, not of a helpdesk.sqlite3 nothing would use.
    assert cli(tmp_path, "migrate").returncode == 0
    assert (tmp_path / "helpdesk-console.sqlite3").exists()
    assert not (tmp_path / "helpdesk.sqlite3").exists()
    checked = cli(tmp_path, "check")
    assert "helpdesk-console.sqlite3" in checked.stdout and "no tables yet" not in checked.stdout


# --- a password with an unencoded @ (issue 14) --------------------------------------------


@pytest.mark.parametrize("url", [
    "postgresql://desk:p@ss@127.0.0.1:1/test",
    "postgresql://desk:s3cret@w0rd@127.0.0.1:1/test",
    "postgresql://desk:p@ss@127.0.0.1:1/test?sslmode=disable&application_name=a@b",
])
@pytest.mark.parametrize("args", [("check",), ("run", "--console"), ("migrate",)],
                         ids=lambda a: a[0])
def test_a_password_holding_an_at_sign_is_masked_whole(tmp_path, url, args):
    password = url.split("://desk:", 1)[1].rsplit("@127.0.0.1", 1)[0]
    result = cli(tmp_path, *args, HELPDESK_DATABASE_URL=url, HELPDESK_LOG_LEVEL="DEBUG",
                 input="hello\n")
    shown = result.stdout + result.stderr
    # Said as the configuration mistake it is, not as a host that cannot be found.
    assert result.returncode == 2, shown
    assert "Traceback" not in result.stderr
    assert "desk:***@127.0.0.1:1/test" in shown
    assert "write an @ in the user name or password as %40" in shown
    assert "Name or service not known" not in shown
    # No piece of the password after its first @ shows either.
    for piece in password.split("@")[1:]:
        assert f"{piece}@" not in shown and f"@{piece}" not in shown


def test_the_console_stops_cleanly_on_sigterm(tmp_path, db_url):
    # `docker stop` sends SIGTERM: exit 0 at once, not 143 after the stop timeout.
    import signal
    desk = subprocess.Popen([sys.executable, "-m", "bot", "run", "--console"], cwd=tmp_path,
                            env=clean_env(HELPDESK_DATABASE_URL=db_url),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        desk.stdin.write("My VPN keeps dropping\n")
        desk.stdin.flush()
        answer = desk.stdout.readline()
        while "#1" not in answer and answer:
            answer = desk.stdout.readline()
        assert "#1" in answer  # it is up, waiting for the next line (stdin still open)
        desk.send_signal(signal.SIGTERM)
        assert desk.wait(timeout=TIMEOUT) == 0, desk.stderr.read()
    finally:
        if desk.poll() is None:
            desk.kill()
            desk.wait()
