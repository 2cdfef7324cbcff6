"""``helpdesk-bot init``: a .env and a copy of the default config to customise, never
overwriting what is there unless asked."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from bot.config_files import DESK_FILES
from bot.scaffold import InitError, init, report
from bot.settings import load_settings
from tests.test_cli import cli

SHIPPED = Path(__file__).resolve().parent.parent / "bot" / "config"
WRITTEN = [".env", "config/messages.toml", "config/policy.toml", "config/tips.toml",
           "slack-manifest.yaml"]


def test_init_writes_a_env_and_a_copy_of_the_config(tmp_path):
    folder = tmp_path / "desk"
    written = init(folder)
    assert written == [folder / name for name in WRITTEN]
    for name in DESK_FILES:
        assert (folder / "config" / name).read_bytes() == (SHIPPED / name).read_bytes()
    assert (folder / "slack-manifest.yaml").read_bytes() == (
        SHIPPED / "slack-manifest.yaml").read_bytes()
    # The .env is the commented example with the config line switched on, and loads.
    text = (folder / ".env").read_text(encoding="utf-8")
    assert "\nHELPDESK_CONFIG_DIR=config\n" in text
    assert "# SLACK_BOT_TOKEN=xoxb-your-bot-token" in text
    settings = load_settings(environ={}, env_file=folder / ".env")
    assert settings.config_dir == "config"
    # It will hold the platform tokens: readable by its owner only.
    assert stat.S_IMODE((folder / ".env").stat().st_mode) == 0o600


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "tips.toml").write_text("# my own tips\n", encoding="utf-8")
    with pytest.raises(InitError) as raised:
        init(tmp_path)
    assert str(raised.value) == (f"{tmp_path / 'config' / 'tips.toml'} already exists; nothing "
                                 "was written. Run again with --force to replace it with the "
                                 "defaults.")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "config", "config/tips.toml"]
    assert (tmp_path / "config" / "tips.toml").read_text(encoding="utf-8") == "# my own tips\n"


def test_init_with_force_replaces_existing_files(tmp_path):
    init(tmp_path)
    (tmp_path / "config" / "policy.toml").write_text("edited", encoding="utf-8")
    init(tmp_path, force=True)
    assert (tmp_path / "config" / "policy.toml").read_bytes() == (
        SHIPPED / "policy.toml").read_bytes()


def test_init_into_a_file_is_refused(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(InitError, match="is a file, not a folder"):
        init(target)


def test_report_says_what_to_edit_next(tmp_path):
    out = io.StringIO()
    report(tmp_path / "desk", out, here=tmp_path)
    text = out.getvalue()
    assert text.startswith(f"Wrote a desk to customise in {(tmp_path / 'desk').resolve()}:\n")
    for name in WRITTEN:
        assert f"  {name} " in text
    assert f"1. cd {(tmp_path / 'desk').resolve()}" in text
    assert "SLACK_BOT_TOKEN" in text and "DISCORD_BOT_TOKEN" in text
    assert "helpdesk-bot check" in text and "helpdesk-bot run" in text
    here = io.StringIO()
    report(tmp_path, here, here=tmp_path)
    assert "cd " not in here.getvalue()  # already there


def test_init_then_check_and_the_console_use_the_copy(tmp_path):
    result = cli(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Wrote a desk to customise in {tmp_path.resolve()}")
    # The operator rewords the acknowledgement in the copy; the desk says it their way.
    messages = tmp_path / "config" / "messages.toml"
    messages.write_text(messages.read_text(encoding="utf-8").replace(
        "Thanks, {requester}. I've opened ticket {ref}", "Got it, {requester}: ticket {ref}"),
        encoding="utf-8")
    check = cli(tmp_path, "check")
    assert check.returncode == 0, check.stdout
    assert f"from {tmp_path.resolve() / 'config'}: messages.toml" in check.stdout
    story = cli(tmp_path, "run", "--console", input="My VPN keeps dropping\n")
    assert story.returncode == 0, story.stderr
    assert "Got it, Alex: ticket #1 for you" in story.stdout
    again = cli(tmp_path, "init")
    assert again.returncode == 2
    assert again.stderr.startswith("helpdesk-bot: ") and "--force" in again.stderr
    assert "Got it" in messages.read_text(encoding="utf-8")  # nothing lost
