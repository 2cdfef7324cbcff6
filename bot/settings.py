"""One typed settings object, loaded once from the environment, `.env` and a TOML file.

Precedence, highest first: process environment, `.env` in the working directory, the
TOML file named by ``HELPDESK_CONFIG``, then defaults. Secrets are wrapped in
:class:`Secret` so that printing or logging settings never shows them.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from dotenv.parser import parse_stream

DEFAULT_DATABASE_URL = "sqlite:///helpdesk.sqlite3"
# HELPDESK_SECRET_KEY signs links and sessions: shorter than this is guessable.
SECRET_KEY_MIN = 32
# The console's own default: its /wait moves time, which must never reach a database a
# Slack or Discord desk uses (see ``for_console``).
CONSOLE_DATABASE_URL = "sqlite:///helpdesk-console.sqlite3"
# A Discord snowflake: a 64-bit number, 17 digits for anything made since early 2015.
_SNOWFLAKE = re.compile(r"\d{17,20}")

# Discord role ids, comma-separated; a field annotated so is checked id by id.
RoleIds = tuple[str, ...]


class SettingsError(ValueError):
    """The configuration is unusable; the message names the problem in one line."""


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for handing to a client library."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _no_secret() -> Secret:
    return Secret("")


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its configuration. Field names match the
    environment variables without their prefix (``HELPDESK_`` for the desk's own)."""

    # Kept out of repr: a database URL may carry a password.
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    admins: tuple[str, ...] = ()
    tick_seconds: float = 1.0
    # Covers of promises due within this many seconds are worked out ahead (0: never).
    prepare_seconds: int = 30
    # On SIGTERM, events already acknowledged get this long to be handled before the
    # rest are handed back to the inbox for any instance (bot/app.py): the whole stop
    # stays within 20 s with the default.
    stop_grace_seconds: float = 8.0
    # Empty means: INFO when serving platforms, WARNING in the console (logs would
    # interleave with the conversation on the same terminal).
    log_level: str = ""
    # "text" for a person at a terminal, "json" (one object per line) for a log collector.
    log_format: str = "text"
    # Sent and superseded outbox rows and processed event ids older than this are pruned
    # (bot/storage/retention.py); tickets, timelines and promises are kept.
    retention_days: int = 30
    # Empty means: the time zone in config/policy.toml.
    timezone: str = ""
    config_dir: str = ""
    auto_migrate: bool = True
    # Knowledge-base search by sentence embeddings (the kb-embeddings extra,
    # bot/storage/kb_vectors.py) instead of the lexical search.
    kb_embeddings: bool = False
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    # Where people and platforms reach the web server (links the desk gives, Slack's
    # Request URL); empty: the address it listens on.
    public_url: str = ""
    # Signs the dashboard's links and sessions; `check` refuses one shorter than
    # SECRET_KEY_MIN characters.
    secret_key: Secret = field(default_factory=_no_secret)
    slack_bot_token: Secret = field(default_factory=_no_secret)
    slack_app_token: Secret = field(default_factory=_no_secret)
    slack_signing_secret: Secret = field(default_factory=_no_secret)
    slack_api_url: str = ""
    discord_bot_token: Secret = field(default_factory=_no_secret)
    discord_api_url: str = ""
    discord_gateway_url: str = ""
    # Members holding any of these Discord roles are the desk's agents (leads): ids only,
    # because role names can repeat and anyone with Manage Roles can rename one.
    discord_agent_roles: RoleIds = ()
    discord_lead_roles: RoleIds = ()

    @property
    def given(self) -> frozenset[str]:
        """Which fields the configuration set (the console serves the web server only
        when HELPDESK_HTTP_PORT was given); none for Settings made in code. Kept beside
        the fields, not as one: it is not a setting, and equal settings stay equal."""
        return self.__dict__.get("_given", frozenset())

    @property
    def slack_enabled(self) -> bool:
        """Slack runs when a bot token is configured."""
        return bool(self.slack_bot_token)

    @property
    def discord_enabled(self) -> bool:
        """Discord runs when a bot token is configured."""
        return bool(self.discord_bot_token)

    @property
    def async_database_url(self) -> str:
        """The database URL with an async driver, whatever form it was given in."""
        return to_async_url(self.database_url)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value in these settings (tokens, the database URL's password and
        secret query values), for :func:`mask` to hide wherever text is printed."""
        tokens = (self.slack_bot_token, self.slack_app_token, self.slack_signing_secret,
                  self.discord_bot_token, self.secret_key)
        return tuple(t.reveal() for t in tokens if t) + url_secrets(self.database_url)


# A query parameter whose name contains one of these words holds a secret
# (password, sslpassword, pwd, pass, token, secret, key, api_key, ...).
_SECRET_WORDS = ("pass", "pwd", "secret", "token", "key")
# user:password@ after the scheme, and name=value pairs of a query string. A password
# may hold an unencoded @ (p@ss): it runs to the @ after which the host has no @ of its
# own (the last @ before the host), so no piece of it is taken for the host and shown.
_USERINFO = re.compile(r"(://[^:/?#@\s]*:)(\S*?)(@)(?=[^@\s/?#]*(?:[/?#\s]|$))")
_QUERY_PAIR = re.compile(r"([?&;]([^=&#\s]+)=)([^&#\s]*)")
# Shorter secrets are not replaced as bare text: masking every "ab" would garble the
# message and protect nothing (a 4-letter password "desk" would hide the word
# everywhere). They are still masked wherever they appear in a URL.
_MIN_MASKED = 6


def is_secret_key(name: str) -> bool:
    """Whether a URL query parameter called ``name`` holds a secret."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def url_secrets(url: str) -> tuple[str, ...]:
    """The password and secret query values in ``url``, however malformed the URL is."""
    found = [m.group(2) for m in _USERINFO.finditer(url)]
    found += [m.group(3) for m in _QUERY_PAIR.finditer(url) if is_secret_key(m.group(2))]
    values = {v for v in found if v} | {unquote(v) for v in found if v}
    return tuple(sorted(values, key=len, reverse=True))


def mask(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` with every URL password, secret query value and each of ``secrets``
    replaced by ``***``: for anything printed or logged that may quote a URL or a
    driver's error."""
    text = _USERINFO.sub(lambda m: m.group(1) + ("***" if m.group(2) else "") + m.group(3),
                         text)
    text = _QUERY_PAIR.sub(
        lambda m: m.group(1) + ("***" if is_secret_key(m.group(2)) and m.group(3) else
                                m.group(3)), text)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_MASKED:
            text = text.replace(secret, "***")
    return text


class RedactingFormatter(logging.Formatter):
    """A log formatter whose every line (tracebacks included) goes through ``redact``:
    a driver's error may quote the database URL, and a secret never reaches a log."""

    def __init__(self, fmt: str | None, redact: Callable[[str], str]) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def masking_formatter(fmt: str, secrets: tuple[str, ...] | list[str] = ()) -> RedactingFormatter:
    """A :class:`RedactingFormatter` that :func:`mask` s every line with ``secrets``."""
    return RedactingFormatter(fmt, lambda line: mask(line, secrets))


def for_console(settings: Settings) -> Settings:
    """``settings`` for a console run: unless a database was named, the console's own
    file rather than the one a platform desk would use by default."""
    if settings.database_url != DEFAULT_DATABASE_URL:
        return settings
    return _given(replace(settings, database_url=CONSOLE_DATABASE_URL), settings.given)


def _given(settings: Settings, names) -> Settings:
    """``settings`` (just made), recording ``names`` as the fields the configuration set."""
    object.__setattr__(settings, "_given", frozenset(names))
    return settings


# Platform variables keep the names their own SDKs use; everything else is HELPDESK_*.
_UNPREFIXED = {
    "slack_bot_token", "slack_app_token", "slack_signing_secret", "slack_api_url",
    "discord_bot_token", "discord_api_url", "discord_gateway_url",
}
_FIELDS = {f.name: f for f in fields(Settings)}
_ENV_NAMES = {(n.upper() if n in _UNPREFIXED else f"HELPDESK_{n.upper()}"): n for n in _FIELDS}
# Read by `load_settings` itself or by the test harness, so never "unknown".
_META_VARIABLES = {"HELPDESK_CONFIG", "HELPDESK_TEST_POSTGRES_URL", "HELPDESK_ENV_FILE"}
# Variables with these prefixes are looked at for likely typos of the desk's own names;
# any other variable is another program's business.
_PREFIXES = ("HELPDESK_", "SLACK_", "DISCORD_")
# How alike a SLACK_/DISCORD_ name must be to one of ours to be taken for a typo of it
# (difflib's ratio): SLACK_BOT_TOKN is, SLACK_CLIENT_SECRET and DISCORD_GUILD_ID are not.
_TYPO_CUTOFF = 0.85
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")


def env_name(field_name: str) -> str:
    """The environment variable that sets ``field_name``."""
    return next(k for k, v in _ENV_NAMES.items() if v == field_name)


def to_async_url(url: str) -> str:
    """Give a plain SQLAlchemy URL its async driver (aiosqlite or asyncpg)."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def _coerce(name: str, raw: Any, source: str) -> Any:
    kind = _FIELDS[name].type
    try:
        if kind == "Secret":
            return Secret(str(raw).strip())
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind == "int":
            return int(raw)
        if kind == "float":
            value = float(raw)
            if not math.isfinite(value) or value <= 0:
                raise ValueError
            return value
        if kind in ("tuple[str, ...]", "RoleIds"):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            values = tuple(str(i).strip() for i in items if str(i).strip())
            if kind == "RoleIds" and not all(_SNOWFLAKE.fullmatch(v) for v in values):
                raise ValueError
            return values
        return str(raw).strip()
    except (TypeError, ValueError):
        raise SettingsError(
            f"{source}: {_describe(name)} has an invalid value; expected {_expected(kind)}."
        ) from None


def _is_zone(value: str) -> bool:
    if not value:
        return True  # empty: the zone in policy.toml
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_url(schemes: tuple[str, ...]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        if not value:
            return True  # empty: the platform's own
        try:
            parts = urlsplit(value)
            return parts.scheme in schemes and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a port that is not a number
            return False
    return check


def _is_plain_url(value: str) -> bool:
    """No credentials, query or fragment: links are made by appending paths to it."""
    if not value:
        return True
    parts = urlsplit(value)
    return not (parts.username or parts.password or parts.query or parts.fragment
                or value.endswith(("?", "#")))


# Checks beyond the type, each with what it expects: (check, expected).
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "http_port": (lambda v: 1 <= v <= 65535, "a port number from 1 to 65535"),
    "prepare_seconds": (lambda v: v >= 0, "a whole number, 0 or more"),
    "stop_grace_seconds": (lambda v: 0 <= v <= 60, "a number of seconds from 0 to 60"),
    "timezone": (_is_zone, "an IANA time zone name such as Europe/London or America/New_York"),
    "log_level": (lambda v: not v or v.upper() in LOG_LEVELS,
                  "DEBUG, INFO, WARNING or ERROR"),
    "log_format": (lambda v: v.lower() in LOG_FORMATS, "text or json"),
    "retention_days": (lambda v: v >= 1, "a whole number of days, 1 or more"),
    "http_host": (lambda v: bool(v) and not any(c.isspace() for c in v),
                  "a host name or an IP address"),
    "slack_api_url": (_is_url(("http", "https")), "a URL starting http:// or https://"),
    "public_url": (lambda v: _is_url(("http", "https"))(v) and _is_plain_url(v),
                   "the URL people reach this server at, starting http:// or https:// "
                   "(no user name, password, query or #fragment)"),
    "discord_api_url": (_is_url(("http", "https")), "a URL starting http:// or https://"),
    "discord_gateway_url": (_is_url(("ws", "wss")), "a URL starting ws:// or wss://"),
    # One rule for `check` and `run` alike: a short key is refused before either starts.
    "secret_key": (lambda v: not v or len(v.reveal()) >= SECRET_KEY_MIN,
                   f"{SECRET_KEY_MIN} or more random characters when set: it signs the "
                   "dashboard's links and sessions, so a short one can be guessed"),
}


_SHOWN = {"http_port", "prepare_seconds", "timezone", "log_level", "log_format",
          "retention_days", "stop_grace_seconds"}


def _validated(name: str, raw: Any, source: str) -> Any:
    """``raw`` coerced to the field's type and checked against its rule."""
    value = _coerce(name, raw, source)
    rule = _RULES.get(name)
    if rule is not None and not rule[0](value):
        # Shown where it cannot be a secret and helps to see (a URL may carry a password).
        shown = f" ({value!r})" if name in _SHOWN else ""
        raise SettingsError(
            f"{source}: {_describe(name)} has an invalid value{shown}; expected {rule[1]}.")
    return value


def _describe(name: str) -> str:
    return env_name(name)


def _expected(kind: str) -> str:
    return {
        "bool": "true or false",
        "int": "a whole number",
        "float": "a positive number",
        "tuple[str, ...]": "a comma-separated list",
        "RoleIds": ("comma-separated Discord role ids, 17-20 digits each (with Developer Mode "
                    "on, right-click the role and choose Copy Role ID)"),
    }.get(kind, "text")


def _unknown(key: str, candidates: list[str], source: str) -> SettingsError:
    close = difflib.get_close_matches(key, candidates, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return SettingsError(f"{source}: unknown setting {key}{hint}.")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"HELPDESK_CONFIG names {path}, which does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise SettingsError(f"{path} cannot be read: {exc.strerror}.") from None
    # Accept both a flat file and one with a [helpdesk] table.
    table = data.get("helpdesk", data) if isinstance(data.get("helpdesk"), dict) else data
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "helpdesk":
            continue
        name = key.lower()
        if name not in _FIELDS:
            raise _unknown(key, list(_FIELDS), str(path))
        values[name] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] | None = ".env"
) -> Settings:
    """Build :class:`Settings` from the sources above; raise SettingsError on bad input.

    ``environ`` defaults to ``os.environ``; tests pass their own mapping.
    """
    env = dict(os.environ if environ is None else environ)
    file_values: dict[str, str] = {}
    env_path = Path(env.get("HELPDESK_ENV_FILE", env_file or ""))
    env_label = ".env" if env_path.name == ".env" else str(env_path)
    if env_file and env.get("HELPDESK_ENV_FILE") and not env_path.is_file():
        # Named on purpose, like HELPDESK_CONFIG: used or refused, never quietly skipped.
        raise SettingsError(f"HELPDESK_ENV_FILE names {env_path}, which does not exist.")
    if env_file and env_path.is_file():
        _check_env_file(env_path, env_label)
        file_values = {k: v for k, v in dotenv_values(env_path).items() if v is not None}
    merged = {**file_values, **env}

    values: dict[str, Any] = {}
    config_path = merged.get("HELPDESK_CONFIG")
    if config_path:
        for name, raw in _read_toml(Path(config_path)).items():
            values[name] = _validated(name, raw, config_path)

    for key, raw in merged.items():
        from_file = key in file_values and key not in env
        source = env_label if from_file else "environment"
        if key in _ENV_NAMES:
            values[_ENV_NAMES[key]] = _validated(_ENV_NAMES[key], raw, source)
        elif key.startswith("HELPDESK_") and key not in _META_VARIABLES:
            raise _unknown(key, list(_ENV_NAMES) + sorted(_META_VARIABLES), source)
        elif key.upper().startswith(_PREFIXES) and key not in _META_VARIABLES:
            _reject_likely_typo(key, merged, from_file=from_file, source=source)
    return _given(Settings(**values), values)


def _reject_likely_typo(key: str, merged: Mapping[str, str], *, from_file: bool,
                        source: str) -> None:
    """A SLACK_/DISCORD_ (or lower-case) variable so like one of ours that it is surely
    a typo of it: an error, rather than a desk that quietly falls back to the console.
    In the process environment, a near miss beside the variable it resembles belongs to
    another program (DISCORD_TOKEN beside DISCORD_BOT_TOKEN); in the desk's own ``.env``
    it is always a mistake."""
    close = difflib.get_close_matches(key.upper(), list(_ENV_NAMES), n=1, cutoff=_TYPO_CUTOFF)
    if not close or (not from_file and close[0] in merged):
        return
    raise SettingsError(f"{source}: unknown setting {key} (did you mean {close[0]}?).")


def _check_env_file(path: Path, label: str) -> None:
    """python-dotenv skips a line it cannot read, with only a log warning; a skipped
    token would make the desk start as something else. The line is not quoted back:
    it may hold a secret."""
    try:
        with path.open(encoding="utf-8") as handle:
            bad = next((b.original.line for b in parse_stream(handle) if b.error), None)
    except UnicodeDecodeError:
        raise SettingsError(f"{label} is not UTF-8 text.") from None
    except OSError as exc:
        raise SettingsError(f"{label} cannot be read: {exc.strerror}.") from None
    if bad is not None:
        raise SettingsError(f"{label}, line {bad}: not a NAME=value line (check for a "
                            "missing = or an unclosed quote).")
