"""Tests of ``bot.settings``: where each value comes from, how it is coerced, how bad input
is reported (one line, naming the variable or file), and that secrets never show.

Every test passes its own ``environ`` mapping and an explicit ``env_file`` so the real
environment and any ``.env`` in the working directory cannot leak in.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from bot.settings import (
    DEFAULT_DATABASE_URL,
    Secret,
    Settings,
    SettingsError,
    env_name,
    load_settings,
    to_async_url,
)
from tests.test_compose import compose_variables

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_ENV = REPO / "bot" / "config" / "example.env"


def load(environ: dict[str, str] | None = None, env_file=None) -> Settings:
    """``load_settings`` isolated from the process environment and the working dir."""
    return load_settings(environ=environ or {}, env_file=env_file)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults -------------------------------------------------------------------------


def test_defaults_with_empty_environment():
    settings = load()
    assert settings == Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///helpdesk.sqlite3"
    assert settings.admins == ()
    assert settings.tick_seconds == 1.0
    assert settings.log_level == ""
    assert settings.timezone == ""  # empty: policy.toml decides
    assert settings.config_dir == ""
    assert settings.auto_migrate is True
    assert settings.http_host == "0.0.0.0"
    assert settings.http_port == 3000
    for secret in (settings.slack_bot_token, settings.slack_app_token,
                   settings.slack_signing_secret, settings.discord_bot_token):
        assert isinstance(secret, Secret) and not secret and secret.reveal() == ""
    assert settings.slack_api_url == settings.discord_api_url == ""
    assert settings.discord_gateway_url == ""
    assert settings.discord_agent_roles == settings.discord_lead_roles == ()
    assert not settings.slack_enabled and not settings.discord_enabled
    assert settings.async_database_url == "sqlite+aiosqlite:///helpdesk.sqlite3"


def test_missing_env_file_is_not_an_error(tmp_path):
    assert load({}, env_file=tmp_path / "absent.env") == Settings()


def test_an_env_file_named_by_helpdesk_env_file_that_is_missing_is_refused(tmp_path):
    # Like HELPDESK_CONFIG: a file named on purpose is read or refused, never skipped.
    absent = tmp_path / "absent.env"
    with pytest.raises(SettingsError, match=f"HELPDESK_ENV_FILE names {absent}, which does "
                                            "not exist"):
        load_settings(environ={"HELPDESK_ENV_FILE": str(absent)})


def test_default_env_file_is_dot_env_in_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path / ".env", "HELPDESK_HTTP_PORT=4100\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).http_port == 4100
    assert load_settings(environ={}, env_file=None).http_port == 3000


def test_helpdesk_env_file_variable_names_another_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    other = write(tmp_path / "other.env", "HELPDESK_HTTP_PORT=4200\n")
    assert load_settings(environ={"HELPDESK_ENV_FILE": str(other)}).http_port == 4200


# --- environment variables ------------------------------------------------------------


def test_every_field_can_be_set_from_its_environment_variable():
    environ = {
        "HELPDESK_DATABASE_URL": "postgresql://desk@db/desk",
        "HELPDESK_ADMINS": "U1,U2",
        "HELPDESK_TICK_SECONDS": "0.25",
        "HELPDESK_PREPARE_SECONDS": "0",
        "HELPDESK_STOP_GRACE_SECONDS": "2.5",
        "HELPDESK_LOG_LEVEL": "DEBUG",
        "HELPDESK_LOG_FORMAT": "json",
        "HELPDESK_RETENTION_DAYS": "90",
        "HELPDESK_TIMEZONE": "Europe/London",
        "HELPDESK_CONFIG_DIR": "/srv/config",
        "HELPDESK_AUTO_MIGRATE": "false",
        "HELPDESK_KB_EMBEDDINGS": "on",
        "HELPDESK_HTTP_HOST": "127.0.0.1",
        "HELPDESK_HTTP_PORT": "8080",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_SIGNING_SECRET": "sign-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DISCORD_BOT_TOKEN": "disc-1",
        "DISCORD_API_URL": "http://127.0.0.1:9/discord",
        "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/gw",
        "HELPDESK_DISCORD_AGENT_ROLES": "112233445566778899",
        "HELPDESK_DISCORD_LEAD_ROLES": "998877665544332211",
        "HELPDESK_PUBLIC_URL": "https://desk.example.com",
        "HELPDESK_SECRET_KEY": "k" * 40,
    }
    assert set(environ) == {env_name(f.name) for f in fields(Settings)}
    s = load(environ)
    assert s.database_url == "postgresql://desk@db/desk"
    assert s.async_database_url == "postgresql+asyncpg://desk@db/desk"
    assert s.admins == ("U1", "U2")
    assert s.stop_grace_seconds == 2.5
    assert s.tick_seconds == 0.25
    assert s.prepare_seconds == 0
    assert s.log_level == "DEBUG"
    assert s.log_format == "json"
    assert s.retention_days == 90
    assert s.timezone == "Europe/London"
    assert s.config_dir == "/srv/config"
    assert s.auto_migrate is False
    assert s.kb_embeddings is True
    assert s.http_host == "127.0.0.1"
    assert s.http_port == 8080
    assert s.slack_bot_token.reveal() == "xoxb-1"
    assert s.slack_app_token.reveal() == "xapp-1"
    assert s.slack_signing_secret.reveal() == "sign-1"
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.discord_bot_token.reveal() == "disc-1"
    assert s.discord_api_url == "http://127.0.0.1:9/discord"
    assert s.discord_gateway_url == "ws://127.0.0.1:9/gw"
    assert s.discord_agent_roles == ("112233445566778899",)
    assert s.discord_lead_roles == ("998877665544332211",)
    assert s.public_url == "https://desk.example.com"
    assert s.secret_key.reveal() == "k" * 40 and "k" * 40 not in repr(s)
    assert s.slack_enabled and s.discord_enabled
    assert "http_port" in s.given and "secret_key" in s.given
    assert "http_port" not in load({}).given


@pytest.mark.parametrize("url", ["ftp://desk.example.com", "desk.example.com",
                                 "https://user:pw@desk.example.com", "https://x.example/?a=1",
                                 "https://x.example/#top", "https://"])
def test_the_public_url_must_be_a_plain_http_url(url):
    with pytest.raises(SettingsError, match="HELPDESK_PUBLIC_URL has an invalid value;"):
        load({"HELPDESK_PUBLIC_URL": url})


def test_the_public_url_is_never_quoted_back():
    # It could carry a password; the refusal says what is wanted, not what was given.
    with pytest.raises(SettingsError) as refused:
        load({"HELPDESK_PUBLIC_URL": "https://user:hunter2secret@desk.example.com"})
    assert "hunter2secret" not in str(refused.value)


def test_the_secret_key_is_among_the_secrets_masked():
    s = load({"HELPDESK_SECRET_KEY": "s3cr3t-" * 6})
    assert "s3cr3t-" * 6 in s.secrets()


def test_env_names_keep_platform_names_unprefixed():
    assert env_name("database_url") == "HELPDESK_DATABASE_URL"
    assert env_name("http_port") == "HELPDESK_HTTP_PORT"
    assert env_name("slack_bot_token") == "SLACK_BOT_TOKEN"
    assert env_name("discord_gateway_url") == "DISCORD_GATEWAY_URL"
    # The desk's own Discord settings are the desk's, so they carry its prefix.
    assert env_name("discord_agent_roles") == "HELPDESK_DISCORD_AGENT_ROLES"
    assert env_name("discord_lead_roles") == "HELPDESK_DISCORD_LEAD_ROLES"


def test_values_are_stripped():
    s = load({"HELPDESK_TIMEZONE": "  Europe/Paris \n", "SLACK_BOT_TOKEN": " xoxb-2 ",
              "HELPDESK_HTTP_PORT": " 81 "})
    assert s.timezone == "Europe/Paris"
    assert s.slack_bot_token.reveal() == "xoxb-2"
    assert s.http_port == 81


def test_unrelated_variables_are_ignored():
    s = load({"PATH": "/usr/bin", "HOME": "/root", "SLACK_SOMETHING_ELSE": "x",
              "DISCORD_WHATEVER": "y", "HELPDESKX": "z"})
    assert s == Settings()


@pytest.mark.parametrize("meta", ["HELPDESK_TEST_POSTGRES_URL", "HELPDESK_ENV_FILE"])
def test_meta_variables_are_not_unknown(meta, tmp_path):
    assert load({meta: str(tmp_path / "nothing-here")}) == Settings()


# --- admins ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("U1", ("U1",)),
    ("U1,U2,U3", ("U1", "U2", "U3")),
    (" U1 , U2 ,U3 ", ("U1", "U2", "U3")),
    ("U1,,U2,", ("U1", "U2")),
    (" , ", ()),
    ("", ()),
])
def test_admins_comma_list(raw, expected):
    assert load({"HELPDESK_ADMINS": raw}).admins == expected


# --- Discord agent and lead roles -----------------------------------------------------

AGENTS, LEADS = "112233445566778899", "1122334455667788990"


@pytest.mark.parametrize("raw, expected", [
    (AGENTS, (AGENTS,)),
    (f" {AGENTS} , {LEADS} ,", (AGENTS, LEADS)),
    ("12345678901234567", ("12345678901234567",)),  # 17 digits: the oldest ids
    (" , ", ()),
    ("", ()),
])
def test_discord_role_ids(raw, expected):
    s = load({"HELPDESK_DISCORD_AGENT_ROLES": raw, "HELPDESK_DISCORD_LEAD_ROLES": raw})
    assert s.discord_agent_roles == s.discord_lead_roles == expected


@pytest.mark.parametrize("raw", ["IT Agents", f"{AGENTS},Agents", "@Agents", f"<@&{AGENTS}>",
                                 "1234", "123456789012345678901", "1e18"])
def test_discord_roles_must_be_ids(raw):
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_DISCORD_LEAD_ROLES": raw})
    message = str(caught.value)
    assert message.startswith("environment: HELPDESK_DISCORD_LEAD_ROLES has an invalid value; "
                              "expected comma-separated Discord role ids, 17-20 digits each")
    assert "Copy Role ID" in message and "\n" not in message
    assert raw not in message


def test_discord_roles_from_toml_list_of_numbers_or_strings(tmp_path):
    config = write(tmp_path / "desk.toml", f'discord_agent_roles = [{AGENTS}, "{LEADS}"]\n'
                                           f'discord_lead_roles = "{LEADS}"\n')
    s = load({"HELPDESK_CONFIG": str(config)})
    assert s.discord_agent_roles == (AGENTS, LEADS)
    assert s.discord_lead_roles == (LEADS,)


def test_discord_role_setting_typo_suggests_the_real_name():
    with pytest.raises(SettingsError, match=r"did you mean HELPDESK_DISCORD_AGENT_ROLES\?"):
        load({"HELPDESK_DISCORD_AGENT_ROLE": AGENTS})


# --- coercion -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "True", "yes", "Yes", "on", " on "])
def test_bool_true_words(raw):
    assert load({"HELPDESK_AUTO_MIGRATE": raw}).auto_migrate is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "NO", "off", " off "])
def test_bool_false_words(raw):
    assert load({"HELPDESK_AUTO_MIGRATE": raw}).auto_migrate is False


@pytest.mark.parametrize("raw", ["maybe", "2", "", "enabled", "tru"])
def test_bool_invalid_names_variable_and_expectation(raw):
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_AUTO_MIGRATE": raw})
    message = str(caught.value)
    assert message == ("environment: HELPDESK_AUTO_MIGRATE has an invalid value; "
                       "expected true or false.")
    assert "\n" not in message


@pytest.mark.parametrize("raw, expected", [("1", 1), ("8080", 8080), ("  443 ", 443)])
def test_int_values(raw, expected):
    assert load({"HELPDESK_HTTP_PORT": raw}).http_port == expected


@pytest.mark.parametrize("raw", ["eighty", "80.5", "", "0x50"])
def test_int_invalid(raw):
    with pytest.raises(SettingsError, match=r"^environment: HELPDESK_HTTP_PORT has an invalid "
                                            r"value; expected a whole number\.$"):
        load({"HELPDESK_HTTP_PORT": raw})


@pytest.mark.parametrize("raw, expected", [("2", 2.0), ("0.5", 0.5), ("1e-1", 0.1)])
def test_float_values(raw, expected):
    assert load({"HELPDESK_TICK_SECONDS": raw}).tick_seconds == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["0", "-1", "fast", "", "0.0"])
def test_float_must_be_a_positive_number(raw):
    with pytest.raises(SettingsError, match=r"^environment: HELPDESK_TICK_SECONDS has an "
                                            r"invalid value; expected a positive number\.$"):
        load({"HELPDESK_TICK_SECONDS": raw})


@pytest.mark.parametrize("raw", ["nan", "inf"])
def test_float_rejects_nan_and_infinity(raw):
    with pytest.raises(SettingsError, match="HELPDESK_TICK_SECONDS"):
        load({"HELPDESK_TICK_SECONDS": raw})


def test_invalid_value_error_does_not_show_the_value():
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_HTTP_PORT": "hunter2-not-a-port"})
    assert "hunter2" not in str(caught.value)


# --- unknown variables ----------------------------------------------------------------


@pytest.mark.parametrize("typo, suggestion", [
    ("HELPDESK_DATABSE_URL", "HELPDESK_DATABASE_URL"),
    ("HELPDESK_ADMIN", "HELPDESK_ADMINS"),
    ("HELPDESK_TICK_SECOND", "HELPDESK_TICK_SECONDS"),
    ("HELPDESK_AUTOMIGRATE", "HELPDESK_AUTO_MIGRATE"),
    ("HELPDESK_CONFIGDIR", "HELPDESK_CONFIG_DIR"),
])
def test_unknown_helpdesk_variable_names_it_and_suggests(typo, suggestion):
    with pytest.raises(SettingsError) as caught:
        load({typo: "x"})
    assert str(caught.value) == (
        f"environment: unknown setting {typo} (did you mean {suggestion}?).")


def test_unknown_variable_suggests_meta_variables_too():
    with pytest.raises(SettingsError, match=r"did you mean HELPDESK_CONFIG\?"):
        load({"HELPDESK_CONFG": "x.toml"})


def test_unknown_variable_without_close_match_has_no_suggestion():
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_ZZZZZZZZZZZZZZZZZZ": "1"})
    assert str(caught.value) == "environment: unknown setting HELPDESK_ZZZZZZZZZZZZZZZZZZ."


def test_unknown_variable_in_dot_env_says_so(tmp_path):
    env_file = write(tmp_path / ".env", "HELPDESK_HTTP_PROT=1\n")
    with pytest.raises(SettingsError) as caught:
        load({}, env_file=env_file)
    assert str(caught.value) == (
        ".env: unknown setting HELPDESK_HTTP_PROT (did you mean HELPDESK_HTTP_PORT?).")


# --- .env file ------------------------------------------------------------------------


def test_dot_env_values_are_read(tmp_path):
    env_file = write(tmp_path / ".env", (
        "# a comment\n"
        "HELPDESK_DATABASE_URL=sqlite:///from-dotenv.sqlite3\n"
        'HELPDESK_ADMINS="U1, U2"\n'
        "export HELPDESK_HTTP_PORT=5000\n"
        "SLACK_BOT_TOKEN='xoxb-from-file'\n"
        "HELPDESK_AUTO_MIGRATE=no\n"
    ))
    s = load({}, env_file=env_file)
    assert s.database_url == "sqlite:///from-dotenv.sqlite3"
    assert s.admins == ("U1", "U2")
    assert s.http_port == 5000
    assert s.slack_bot_token.reveal() == "xoxb-from-file"
    assert s.auto_migrate is False


def test_environment_takes_precedence_over_dot_env(tmp_path):
    env_file = write(tmp_path / ".env", (
        "HELPDESK_DATABASE_URL=sqlite:///from-dotenv.sqlite3\n"
        "HELPDESK_HTTP_PORT=5000\n"
        "HELPDESK_TIMEZONE=Asia/Tokyo\n"
    ))
    s = load({"HELPDESK_DATABASE_URL": "sqlite:///from-env.sqlite3",
              "HELPDESK_HTTP_PORT": "6000"}, env_file=env_file)
    assert s.database_url == "sqlite:///from-env.sqlite3"
    assert s.http_port == 6000
    assert s.timezone == "Asia/Tokyo"  # only in .env, so .env still counts


def test_dot_env_key_without_value_is_ignored(tmp_path):
    env_file = write(tmp_path / ".env", "HELPDESK_HTTP_PORT\nHELPDESK_TIMEZONE=Europe/Oslo\n")
    s = load({}, env_file=env_file)
    assert s.http_port == 3000 and s.timezone == "Europe/Oslo"


def test_bad_value_in_dot_env_names_dot_env_as_source(tmp_path):
    env_file = write(tmp_path / ".env", "HELPDESK_HTTP_PORT=port\n")
    with pytest.raises(SettingsError, match=r"^\.env: HELPDESK_HTTP_PORT has an invalid value"):
        load({}, env_file=env_file)


def test_bad_dot_env_value_overridden_by_environment_is_not_an_error(tmp_path):
    env_file = write(tmp_path / ".env", "HELPDESK_HTTP_PORT=port\n")
    assert load({"HELPDESK_HTTP_PORT": "7000"}, env_file=env_file).http_port == 7000


def test_dot_env_can_name_the_toml_file(tmp_path):
    toml = write(tmp_path / "desk.toml", "http_port = 7100\n")
    env_file = write(tmp_path / ".env", f"HELPDESK_CONFIG={toml}\n")
    assert load({}, env_file=env_file).http_port == 7100


# --- TOML file ------------------------------------------------------------------------


def test_flat_toml_file(tmp_path):
    toml = write(tmp_path / "desk.toml", (
        'database_url = "postgresql://desk@db/desk"\n'
        'admins = ["U1", " U2 "]\n'
        "tick_seconds = 2\n"
        "auto_migrate = false\n"
        "http_port = 8000\n"
        'slack_bot_token = "xoxb-toml"\n'
        'timezone = "America/New_York"\n'
    ))
    s = load({"HELPDESK_CONFIG": str(toml)})
    assert s.database_url == "postgresql://desk@db/desk"
    assert s.admins == ("U1", "U2")
    assert s.tick_seconds == 2.0 and isinstance(s.tick_seconds, float)
    assert s.auto_migrate is False
    assert s.http_port == 8000
    assert s.slack_bot_token.reveal() == "xoxb-toml"
    assert s.timezone == "America/New_York"


def test_toml_file_with_helpdesk_table(tmp_path):
    toml = write(tmp_path / "desk.toml", (
        "[helpdesk]\n"
        'database_url = "sqlite:///table.sqlite3"\n'
        'admins = "U7, U8"\n'
        'auto_migrate = "off"\n'
        'http_port = "8001"\n'
    ))
    s = load({"HELPDESK_CONFIG": str(toml)})
    assert s.database_url == "sqlite:///table.sqlite3"
    assert s.admins == ("U7", "U8")
    assert s.auto_migrate is False
    assert s.http_port == 8001


def test_toml_keys_are_case_insensitive(tmp_path):
    toml = write(tmp_path / "desk.toml", "HTTP_PORT = 8002\n")
    assert load({"HELPDESK_CONFIG": str(toml)}).http_port == 8002


def test_environment_and_dot_env_take_precedence_over_toml(tmp_path):
    toml = write(tmp_path / "desk.toml", (
        "[helpdesk]\n"
        'database_url = "sqlite:///toml.sqlite3"\n'
        "http_port = 8000\n"
        'timezone = "Asia/Tokyo"\n'
        'http_host = "10.0.0.1"\n'
    ))
    env_file = write(tmp_path / ".env", "HELPDESK_TIMEZONE=Europe/Oslo\n")
    s = load({"HELPDESK_CONFIG": str(toml), "HELPDESK_DATABASE_URL": "sqlite:///env.sqlite3",
              "HELPDESK_HTTP_PORT": "9000"}, env_file=env_file)
    assert s.database_url == "sqlite:///env.sqlite3"
    assert s.http_port == 9000
    assert s.timezone == "Europe/Oslo"
    assert s.http_host == "10.0.0.1"  # only in the TOML


def test_unknown_key_in_toml_names_file_and_suggests(tmp_path):
    toml = write(tmp_path / "desk.toml", "[helpdesk]\ndatabse_url = \"sqlite:///x\"\n")
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_CONFIG": str(toml)})
    assert str(caught.value) == (
        f"{toml}: unknown setting databse_url (did you mean database_url?).")


def test_unknown_key_in_flat_toml(tmp_path):
    toml = write(tmp_path / "desk.toml", "colour = \"blue\"\n")
    with pytest.raises(SettingsError, match=r"unknown setting colour\.$") as caught:
        load({"HELPDESK_CONFIG": str(toml)})
    assert str(toml) in str(caught.value)


def test_bad_value_in_toml_names_the_file(tmp_path):
    toml = write(tmp_path / "desk.toml", 'http_port = "lots"\n')
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_CONFIG": str(toml)})
    assert str(caught.value) == (
        f"{toml}: HELPDESK_HTTP_PORT has an invalid value; expected a whole number.")


def test_bad_toml_value_overridden_by_environment_still_fails(tmp_path):
    # The TOML is validated as a whole, so a broken file is reported even when the
    # environment would have won.
    toml = write(tmp_path / "desk.toml", 'http_port = "lots"\n')
    with pytest.raises(SettingsError, match="HELPDESK_HTTP_PORT"):
        load({"HELPDESK_CONFIG": str(toml), "HELPDESK_HTTP_PORT": "1"})


def test_malformed_toml_names_the_file(tmp_path):
    toml = write(tmp_path / "broken.toml", "[helpdesk\nhttp_port = \n")
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_CONFIG": str(toml)})
    message = str(caught.value)
    assert message.startswith(f"{toml} is not valid TOML: ")
    assert "line 1" in message
    assert "\n" not in message


def test_missing_toml_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_CONFIG": str(missing)})
    assert str(caught.value) == f"HELPDESK_CONFIG names {missing}, which does not exist."


def test_toml_path_that_is_a_directory(tmp_path):
    with pytest.raises(SettingsError, match="cannot be read"):
        load({"HELPDESK_CONFIG": str(tmp_path)})


def test_empty_helpdesk_config_means_no_toml():
    assert load({"HELPDESK_CONFIG": ""}) == Settings()


# --- to_async_url ---------------------------------------------------------------------


@pytest.mark.parametrize("url, expected", [
    ("sqlite:///helpdesk.sqlite3", "sqlite+aiosqlite:///helpdesk.sqlite3"),
    ("sqlite:////app/data/helpdesk.sqlite3", "sqlite+aiosqlite:////app/data/helpdesk.sqlite3"),
    ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
    ("postgres://u:p@h/db?sslmode=require", "postgresql+asyncpg://u:p@h/db?sslmode=require"),
    ("sqlite+aiosqlite:///x.sqlite3", "sqlite+aiosqlite:///x.sqlite3"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("mysql://u@h/db", "mysql://u@h/db"),
])
def test_to_async_url(url, expected):
    assert to_async_url(url) == expected
    assert to_async_url(expected) == expected  # idempotent


def test_async_database_url_property():
    assert load({"HELPDESK_DATABASE_URL": "postgres://u@h/db"}).async_database_url == (
        "postgresql+asyncpg://u@h/db")


# --- secrets --------------------------------------------------------------------------


def test_secret_never_shows_its_value():
    secret = Secret("xoxb-topsecret-value")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret!s}",
                  "%s" % secret, "%r" % (secret,), "{}".format(secret), str([secret]),
                  str({"token": secret})):
        assert "topsecret" not in shown
        assert "***" in shown
    assert secret.reveal() == "xoxb-topsecret-value"
    assert bool(secret)


def test_empty_secret_is_falsy_and_says_empty():
    assert not Secret("")
    assert repr(Secret("")) == "Secret('')"


def test_secret_equality_and_hash():
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert hash(Secret("a")) == hash(Secret("a"))


def test_settings_repr_hides_token_secrets(tmp_path):
    toml = write(tmp_path / "desk.toml", 'discord_bot_token = "disc-toml-hidden"\n')
    s = load({"HELPDESK_CONFIG": str(toml), "SLACK_BOT_TOKEN": "xoxb-env-hidden",
              "SLACK_APP_TOKEN": "xapp-env-hidden", "SLACK_SIGNING_SECRET": "sign-env-hidden"})
    for shown in (repr(s), str(s), f"{s}"):
        assert "hidden" not in shown
        assert "Secret('***')" in shown
    assert s.discord_bot_token.reveal() == "disc-toml-hidden"


def test_settings_repr_hides_database_password():
    s = load({"HELPDESK_DATABASE_URL": "postgresql://desk:pg-hidden-pw@db:5432/desk"})
    assert "pg-hidden-pw" not in repr(s)


# --- documentation --------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^\s*#?\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def documented_variables() -> set[str]:
    return set(_ASSIGNMENT.findall(EXAMPLE_ENV.read_text(encoding="utf-8")))


def test_example_env_documents_every_setting():
    documented = documented_variables()
    expected = {env_name(f.name) for f in fields(Settings)}
    expected |= {"HELPDESK_CONFIG", "HELPDESK_TEST_POSTGRES_URL"}
    missing = sorted(expected - documented)
    assert not missing, f"bot/config/example.env does not document {missing}"


def test_example_env_documents_only_real_variables():
    known = {env_name(f.name) for f in fields(Settings)}
    known |= {"HELPDESK_CONFIG", "HELPDESK_TEST_POSTGRES_URL", "HELPDESK_ENV_FILE"}
    known |= compose_variables()  # read by docker compose from the same .env
    assert documented_variables() <= known


def test_example_env_each_variable_has_a_comment_with_its_default():
    lines = EXAMPLE_ENV.read_text(encoding="utf-8").splitlines()
    assigned = [m.group(1) if (m := _ASSIGNMENT.match(line)) else None for line in lines]
    for name in sorted({env_name(f.name) for f in fields(Settings)}):
        first = assigned.index(name)
        # The comment block just above the first example line.
        block: list[str] = []
        for index in range(first - 1, -1, -1):
            if not lines[index].startswith("#") or assigned[index]:
                break
            block.append(lines[index])
        assert block, f"{name} has no comment above it"
        assert "Default" in " ".join(block), f"{name}'s comment does not give its default"


def test_example_env_is_safe_to_copy_as_dot_env(tmp_path):
    # Everything is commented out, so a verbatim copy changes nothing and cannot fail.
    assert load({}, env_file=EXAMPLE_ENV) == Settings()


# --- every setting is validated where it is loaded (issue 14) -------------------------


@pytest.mark.parametrize("raw", ["99999", "65536", "0", "-1"])
def test_http_port_must_be_a_port_number(raw):
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_HTTP_PORT": raw})
    assert str(caught.value) == (f"environment: HELPDESK_HTTP_PORT has an invalid value "
                                 f"({int(raw)}); expected a port number from 1 to 65535.")


@pytest.mark.parametrize("raw", ["1", "3000", "65535"])
def test_http_port_range_ends_are_ports(raw):
    assert load({"HELPDESK_HTTP_PORT": raw}).http_port == int(raw)


def test_http_port_range_is_checked_in_toml_too(tmp_path):
    toml = write(tmp_path / "desk.toml", "http_port = 70000\n")
    with pytest.raises(SettingsError, match=r"HELPDESK_HTTP_PORT .*from 1 to 65535"):
        load({"HELPDESK_CONFIG": str(toml)})


@pytest.mark.parametrize("raw", ["Mars/Olympus", "Europe/Londn", "../etc/passwd", "UTC+2"])
def test_timezone_must_be_an_iana_zone(raw):
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_TIMEZONE": raw})
    message = str(caught.value)
    assert message.startswith(f"environment: HELPDESK_TIMEZONE has an invalid value ({raw!r}); "
                              "expected an IANA time zone name")
    assert "\n" not in message


@pytest.mark.parametrize("raw", ["Europe/London", "America/New_York", "UTC"])
def test_known_time_zones_load(raw):
    assert load({"HELPDESK_TIMEZONE": raw}).timezone == raw


@pytest.mark.parametrize("raw", ["LOUD", "verbose", "5"])
def test_log_level_must_be_a_level(raw):
    with pytest.raises(SettingsError) as caught:
        load({"HELPDESK_LOG_LEVEL": raw})
    assert str(caught.value) == (f"environment: HELPDESK_LOG_LEVEL has an invalid value "
                                 f"({raw!r}); expected DEBUG, INFO, WARNING or ERROR.")


@pytest.mark.parametrize("raw", ["debug", "INFO", " warning ", "ERROR"])
def test_log_levels_in_any_case(raw):
    assert load({"HELPDESK_LOG_LEVEL": raw}).log_level == raw.strip()


def test_prepare_seconds_cannot_be_negative():
    with pytest.raises(SettingsError, match=r"HELPDESK_PREPARE_SECONDS has an invalid value "
                                            r"\(-5\); expected a whole number, 0 or more\."):
        load({"HELPDESK_PREPARE_SECONDS": "-5"})


@pytest.mark.parametrize("variable, raw", [
    ("SLACK_API_URL", "slack.example.com/api"),
    ("SLACK_API_URL", "ftp://slack.example.com/api/"),
    ("DISCORD_API_URL", "http://"),
    ("DISCORD_GATEWAY_URL", "http://127.0.0.1:9/gateway"),
])
def test_base_urls_must_be_urls_of_their_kind(variable, raw):
    with pytest.raises(SettingsError) as caught:
        load({variable: raw})
    assert str(caught.value).startswith(f"environment: {variable} has an invalid value; "
                                        "expected a URL")


def test_http_host_cannot_be_blank_or_hold_spaces():
    for raw in ("", "my host"):
        with pytest.raises(SettingsError, match="HELPDESK_HTTP_HOST has an invalid value"):
            load({"HELPDESK_HTTP_HOST": raw})


# --- likely typos of the platforms' variables, and unreadable .env lines ---------------


@pytest.mark.parametrize("typo, suggestion", [
    ("SLACK_BOT_TOKN", "SLACK_BOT_TOKEN"),
    ("SLACK_SIGNIN_SECRET", "SLACK_SIGNING_SECRET"),
    ("DISCORD_TOKEN", "DISCORD_BOT_TOKEN"),
    ("DISCORD_API_URI", "DISCORD_API_URL"),
])
def test_likely_typo_of_a_platform_variable_is_an_error(typo, suggestion):
    with pytest.raises(SettingsError) as caught:
        load({typo: "xoxb-not-shown"})
    assert str(caught.value) == (
        f"environment: unknown setting {typo} (did you mean {suggestion}?).")


def test_likely_typo_in_dot_env_is_an_error(tmp_path):
    env_file = write(tmp_path / ".env", "# Slack\nSLACK_BOT_TOKN=xoxb-not-shown\n")
    with pytest.raises(SettingsError) as caught:
        load({}, env_file=env_file)
    assert str(caught.value) == (
        ".env: unknown setting SLACK_BOT_TOKN (did you mean SLACK_BOT_TOKEN?).")


def test_lower_case_name_in_dot_env_is_an_error(tmp_path):
    env_file = write(tmp_path / ".env", "slack_bot_token=xoxb-not-shown\n")
    with pytest.raises(SettingsError, match=r"did you mean SLACK_BOT_TOKEN\?"):
        load({}, env_file=env_file)


def test_near_miss_beside_the_real_variable_belongs_to_something_else():
    # Another program's DISCORD_TOKEN next to the desk's own DISCORD_BOT_TOKEN is no typo.
    s = load({"DISCORD_TOKEN": "theirs", "DISCORD_BOT_TOKEN": "ours"})
    assert s.discord_bot_token.reveal() == "ours"


@pytest.mark.parametrize("name", ["SLACK_CLIENT_ID", "SLACK_WEBHOOK_URL", "DISCORD_GUILD_ID",
                                  "DISCORD_PUBLIC_KEY", "SLACK_CLIENT_SECRET", "PATH"])
def test_unrelated_platform_variables_are_not_typos(name):
    assert load({name: "x"}) == Settings()


def test_unparsable_dot_env_line_is_an_error_with_its_number(tmp_path):
    env_file = write(tmp_path / ".env", (
        "HELPDESK_HTTP_PORT=4100\n"
        "# a comment\n"
        "SLACK_BOT_TOKEN xoxb-secret-without-equals\n"
    ))
    with pytest.raises(SettingsError) as caught:
        load({}, env_file=env_file)
    message = str(caught.value)
    assert message == (".env, line 3: not a NAME=value line (check for a missing = or an "
                       "unclosed quote).")
    assert "xoxb" not in message


def test_unclosed_quote_in_dot_env_is_an_error(tmp_path):
    env_file = write(tmp_path / ".env", 'HELPDESK_ADMINS="U1, U2\nHELPDESK_HTTP_PORT=1\n')
    with pytest.raises(SettingsError, match=r"^\.env, line 1: "):
        load({}, env_file=env_file)


def test_dot_env_named_by_helpdesk_env_file_is_named_in_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    other = write(tmp_path / "desk.env", "junk line\n")
    with pytest.raises(SettingsError, match=rf"^{re.escape(str(other))}, line 1: "):
        load_settings(environ={"HELPDESK_ENV_FILE": str(other)})


# --- masking secrets in printed text ------------------------------------------------------


def test_mask_hides_url_passwords_and_secret_query_values_of_any_length():
    from bot.settings import mask, url_secrets
    url = "postgresql://desk:pw@db/desk?sslpassword=x&application_name=desk&api_key=k"
    shown = mask(f"cannot reach {url}", url_secrets(url))
    assert shown == ("cannot reach postgresql://desk:***@db/desk?sslpassword=***"
                     "&application_name=desk&api_key=***")


def test_mask_replaces_long_secrets_in_free_text_but_does_not_garble_short_ones():
    from bot.settings import mask, url_secrets
    url = "postgresql://desk:desk@db/desk?password=s3cret-long"
    text = 'the desk says: password authentication failed for "desk" using s3cret-long'
    assert mask(text, url_secrets(url)) == (
        'the desk says: password authentication failed for "desk" using ***')


def test_settings_secrets_lists_tokens_and_url_secrets():
    s = load({"SLACK_BOT_TOKEN": "xoxb-1234567", "DISCORD_BOT_TOKEN": "disc-7654321",
              "HELPDESK_DATABASE_URL": "postgresql://u:topsecret@db/x?token=abcdefgh"})
    assert {"xoxb-1234567", "disc-7654321", "topsecret", "abcdefgh"} <= set(s.secrets())


@pytest.mark.parametrize("url, shown", [
    ("postgresql://u:p@ss@host/db", "postgresql://u:***@host/db"),
    ("postgresql://u:p@ss@host:5432/db?x=a@b", "postgresql://u:***@host:5432/db?x=a@b"),
    ("postgresql://u:p/s@host/db", "postgresql://u:***@host/db"),
    ("postgresql://u:pw@host/db", "postgresql://u:***@host/db"),
])
def test_mask_hides_everything_up_to_the_last_at_before_the_host(url, shown):
    from bot.settings import mask, url_secrets
    assert mask(url) == shown
    assert mask(f"cannot reach {url}", url_secrets(url)) == f"cannot reach {shown}"
