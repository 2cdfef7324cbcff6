"""The desk's policy files: a value written wrongly is told to the operator in the
same words an admin would read for the same mistake in a command."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import OffsetClock
from bot.desk.policy import Desk
from bot.settings import Settings, SettingsError

SHIPPED = Path(__file__).resolve().parents[2] / "bot" / "config"


def _config(tmp_path: Path, *, replace: tuple[str, str]) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "messages.toml").write_text((SHIPPED / "messages.toml").read_text("utf-8"), "utf-8")
    policy = (SHIPPED / "policy.toml").read_text("utf-8")
    assert replace[0] in policy
    (folder / "policy.toml").write_text(policy.replace(*replace), "utf-8")
    return folder


def test_a_duration_the_file_gets_wrong_is_named_with_the_file(tmp_path):
    folder = _config(tmp_path, replace=('nudge_after = "16h"', 'nudge_after = "soon"'))
    with pytest.raises(SettingsError) as raised:
        Desk.from_settings(Settings(config_dir=str(folder)), OffsetClock())
    assert str(raised.value) == (f"{folder / 'policy.toml'}: I couldn't read “soon” as a "
                                 "duration. Write it like 45m, 2h, 1h30m, 1.5h or 3d.")


def test_an_unknown_time_zone_in_the_environment_names_the_variable(tmp_path):
    with pytest.raises(SettingsError) as raised:
        Desk.from_settings(Settings(timezone="Mars/Olympus"), OffsetClock())
    assert str(raised.value) == ("HELPDESK_TIMEZONE: “Mars/Olympus” isn't a time zone I "
                                 "know: use a name like Europe/London or America/New_York.")


def test_a_holiday_the_file_gets_wrong_is_named_as_a_command_would_name_it(tmp_path):
    folder = _config(tmp_path, replace=("holidays = []", 'holidays = ["2026-02-30"]'))
    with pytest.raises(SettingsError) as raised:
        Desk.from_settings(Settings(config_dir=str(folder)), OffsetClock())
    assert str(raised.value) == (f"{folder / 'policy.toml'}: “2026-02-30” isn't a date on the "
                                 "calendar: that month has 28 days.")


def test_the_transcript_offer_is_a_switch_off_by_default(tmp_path):
    assert Desk.from_settings(Settings(), OffsetClock()).defaults.offer_transcript is False
    folder = _config(tmp_path, replace=("offer_transcript = false", "offer_transcript = true"))
    assert Desk.from_settings(Settings(config_dir=str(folder)),
                              OffsetClock()).defaults.offer_transcript is True


def test_a_quoted_switch_is_refused_not_read_as_on(tmp_path):
    folder = _config(tmp_path, replace=("offer_transcript = false", 'offer_transcript = "no"'))
    with pytest.raises(SettingsError) as raised:
        Desk.from_settings(Settings(config_dir=str(folder)), OffsetClock())
    assert str(raised.value) == (f"{folder / 'policy.toml'}: offer_transcript must be true "
                                 "or false, not 'no'.")
