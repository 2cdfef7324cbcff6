"""Where the desk's config files come from: the defaults shipped as package data, and an
operator's folder (HELPDESK_CONFIG_DIR) that overrides them file by file, messages.toml
key by key."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from bot.clock import OffsetClock
from bot.config_files import DESK_FILES, EXAMPLE_ENV, ConfigFolder, shipped
from bot.desk.policy import Desk
from bot.settings import Settings, SettingsError
from bot.templates import Templates, load_templates

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "bot" / "config"


def test_every_file_in_bot_config_is_package_data():
    # A file left out of the globs would be missing from a wheel, and only from a wheel:
    # an editable install and the checkout still have it.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = project["tool"]["setuptools"]["package-data"]["bot"]
    files = sorted(p.name for p in SHIPPED.iterdir() if p.is_file())
    assert set(DESK_FILES) | {EXAMPLE_ENV, "slack-manifest.yaml"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatchcase(f"config/{name}", glob) for glob in globs), name


@pytest.mark.parametrize("name", [*DESK_FILES, EXAMPLE_ENV])
def test_shipped_files_are_read_through_the_package(name):
    assert shipped(name).read_bytes() == (SHIPPED / name).read_bytes()


def test_no_folder_means_every_file_as_shipped():
    folder = ConfigFolder.of("")
    assert folder.own is None
    assert [folder.path(name).read_bytes() for name in DESK_FILES] == [
        (SHIPPED / name).read_bytes() for name in DESK_FILES]
    assert folder.describe() == "config files as shipped"


def test_a_folder_is_used_file_by_file(tmp_path):
    (tmp_path / "policy.toml").write_text((SHIPPED / "policy.toml").read_text("utf-8").replace(
        'timezone = "UTC"', 'timezone = "Europe/Paris"'), encoding="utf-8")
    folder = ConfigFolder.of(str(tmp_path))
    assert folder.path("policy.toml") == tmp_path / "policy.toml"
    assert folder.path("tips.toml").read_bytes() == (SHIPPED / "tips.toml").read_bytes()
    assert folder.own_file("messages.toml") is None
    desk = Desk.from_settings(Settings(config_dir=str(tmp_path)), OffsetClock())
    assert str(desk.defaults.calendar.timezone) == "Europe/Paris"
    assert desk.templates.keys() == load_templates().keys()
    assert folder.describe() == (f"from {tmp_path}: policy.toml; as shipped: messages.toml "
                                 "and tips.toml")


def test_the_operators_messages_are_laid_over_the_shipped_ones_key_by_key(tmp_path):
    (tmp_path / "messages.toml").write_text(
        '[intake]\nack = "Got it, {requester}: {ref}. {eta}"\n', encoding="utf-8")
    ours = Templates.load(ConfigFolder.of(str(tmp_path)))
    theirs = load_templates()
    assert ours.render("intake.ack", requester="Alex", ref="#1", eta="Soon.") == (
        "Got it, Alex: #1. Soon.")
    assert ours.keys() == theirs.keys()
    # Every other sentence is the shipped one: a copy older than the code still works.
    assert ours.raw("intake.eta_open") == theirs.raw("intake.eta_open")


def test_a_misspelt_template_key_is_refused_with_a_suggestion(tmp_path):
    (tmp_path / "messages.toml").write_text('[intake]\nakc = "Got it"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_templates(str(tmp_path))
    assert str(raised.value) == (
        f"{tmp_path / 'messages.toml'}: there is no message template intake.akc (did you mean "
        "intake.ack?); every key must be one of the shipped messages.toml.")


@pytest.mark.parametrize("make, expected", [
    (lambda p: p / "missing", "which is not a folder"),
    (lambda p: p, "which holds none of messages.toml, policy.toml, tips.toml"),
])
def test_a_folder_named_on_purpose_is_used_or_refused(tmp_path, make, expected):
    (tmp_path / "notes.txt").write_text("not config", encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        Desk.from_settings(Settings(config_dir=str(make(tmp_path))), OffsetClock())
    assert f"HELPDESK_CONFIG_DIR is {make(tmp_path)}, {expected}" in str(raised.value)


def test_a_malformed_file_is_named_once(tmp_path):
    (tmp_path / "policy.toml").write_text("[hours\n", encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        Desk.from_settings(Settings(config_dir=str(tmp_path)), OffsetClock())
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'policy.toml'} is not valid TOML: ")
    assert message.count("policy.toml") == 1


def test_the_operators_tips_are_loaded_and_checked_with_the_rest(tmp_path):
    (tmp_path / "tips.toml").write_text(
        '[[tip]]\nkeywords = ["Printer"]\ntext = "Try the other tray."\n', encoding="utf-8")
    desk = Desk.from_settings(Settings(config_dir=str(tmp_path)), OffsetClock())
    assert desk.tips == ((("printer",), "Try the other tray."),)
    (tmp_path / "tips.toml").write_text('[[tip]]\nkeywords = ["printer"]\n', encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        Desk.from_settings(Settings(config_dir=str(tmp_path)), OffsetClock())
    assert str(raised.value).startswith(f"{tmp_path / 'tips.toml'}: each [[tip]] needs a text")
