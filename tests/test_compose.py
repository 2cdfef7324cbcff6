"""Static checks of ``compose.yaml`` (no Docker engine here): PostgreSQL with a health
check and a named volume, and the desk waiting for it to be healthy, with its settings
from ``.env``, its database URL pointing at that PostgreSQL, JSON logs, port 3000, a
restart policy, and the config folder ``helpdesk-bot init`` writes mounted where its
``.env`` line finds it."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

from bot.scaffold import CONFIG_FOLDER, init
from bot.settings import Settings, load_settings
from tests.test_dockerfile import (
    DOCKERFILE, accepted_by_the_desk, args_of, parse_dockerfile,
)

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "compose.yaml"
# ${NAME}, ${NAME:-default}, ${NAME:?error}: compose's interpolation.
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def interpolated(value: str, env: dict[str, str]) -> str:
    """``value`` with compose's ${...} filled from ``env``, as ``docker compose`` would."""
    def fill(match: re.Match[str]) -> str:
        name, operator, word = match.groups()
        if env.get(name):
            return env[name]
        assert operator != ":?", f"compose would refuse to start: {word}"
        return word or ""
    return _VARIABLE.sub(fill, value)


def compose_variables() -> set[str]:
    """Every variable compose.yaml takes from its .env or the shell."""
    return {m.group(1) for m in _VARIABLE.finditer(COMPOSE.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data["services"]) == {"postgres", "desk"}
    return data


@pytest.fixture(scope="module")
def postgres(compose) -> dict:
    return compose["services"]["postgres"]


@pytest.fixture(scope="module")
def desk(compose) -> dict:
    return compose["services"]["desk"]


def desk_environment(desk: dict, env: dict[str, str]) -> dict[str, str]:
    return {k: interpolated(str(v), env) for k, v in desk["environment"].items()}


def test_postgres_is_healthchecked_with_pg_isready_for_its_own_user_and_database(postgres):
    assert postgres["image"].startswith("postgres:")
    test = postgres["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    words = test[1:] if test[0] == "CMD" else test[1].split()
    assert words[0] == "pg_isready"
    assert words[words.index("-U") + 1] == postgres["environment"]["POSTGRES_USER"]
    assert words[words.index("-d") + 1] == postgres["environment"]["POSTGRES_DB"]


def test_postgres_keeps_its_data_on_a_named_volume(compose, postgres):
    volume, _, target = postgres["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]  # named, not a folder: `down` keeps it
    assert not volume.startswith((".", "/"))
    assert "ports" not in postgres  # reached only over the project's network


def test_postgres_password_is_required_not_defaulted(postgres):
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    with pytest.raises(AssertionError, match="set POSTGRES_PASSWORD in .env"):
        interpolated(postgres["environment"]["POSTGRES_PASSWORD"], {})


def test_desk_waits_for_a_healthy_postgres(desk):
    assert desk["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_desk_database_url_points_at_that_postgres(desk, postgres):
    env = {"POSTGRES_PASSWORD": "pw123"}
    url = urlsplit(desk_environment(desk, env)["HELPDESK_DATABASE_URL"])
    assert url.scheme == "postgresql"
    assert (url.hostname, url.port) == ("postgres", 5432)  # the service's name
    assert url.username == postgres["environment"]["POSTGRES_USER"]
    assert url.password == interpolated(postgres["environment"]["POSTGRES_PASSWORD"], env)
    assert url.path == "/" + postgres["environment"]["POSTGRES_DB"]


def test_desk_reads_env_logs_json_and_restarts(desk):
    assert desk["env_file"] in (".env", [".env"])
    assert desk["environment"]["HELPDESK_LOG_FORMAT"] == "json"
    assert desk["restart"] in ("always", "unless-stopped", "on-failure")
    assert desk["build"] == "."


def test_desk_publishes_the_port_the_image_exposes(desk):
    exposed = args_of(parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")), "EXPOSE")
    # HELPDESK_HTTP_PORT in .env moves the desk's port: the mapping follows it.
    port = f"${{HELPDESK_HTTP_PORT:-{Settings().http_port}}}"
    assert desk["ports"] == [f"{port}:{port}"]
    assert exposed == [str(Settings().http_port)]


def test_the_config_init_writes_is_mounted_where_its_env_line_finds_it(desk, tmp_path):
    workdir = args_of(parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")), "WORKDIR")[-1]
    source, target, *mode = desk["volumes"][0].split(":")
    assert source == f"./{CONFIG_FOLDER}" and mode == ["ro"]
    assert PurePosixPath(target) == PurePosixPath(workdir) / CONFIG_FOLDER
    # In the container the settings are .env's lines (env_file) under compose's
    # environment; the desk must accept them all, as it starts in /app.
    init(tmp_path)
    from_env_file = load_settings(environ={}, env_file=tmp_path / ".env")
    env = {"HELPDESK_CONFIG_DIR": from_env_file.config_dir,
           **desk_environment(desk, {"POSTGRES_PASSWORD": "pw123"})}
    settings = load_settings(environ=accepted_by_the_desk(env), env_file=None)
    assert PurePosixPath(workdir) / settings.config_dir == PurePosixPath(target)
    assert settings.database_url.startswith("postgresql://helpdesk:pw123@postgres:5432/")


def test_every_compose_variable_is_documented_in_example_env():
    example = (REPO / "bot" / "config" / "example.env").read_text(encoding="utf-8")
    assert compose_variables() == {"POSTGRES_PASSWORD", "HELPDESK_HTTP_PORT"}
    for name in compose_variables():
        assert re.search(rf"^# {name}=", example, re.MULTILINE), name


def test_compose_gives_the_desk_time_to_stop_gracefully():
    # A stop takes up to the grace + 12 s (bot/app.py STOP_AFTER_GRACE_S); Compose's
    # default of 10 s would SIGKILL a stop with acknowledged events still in hand.
    from bot.app import STOP_AFTER_GRACE_S
    desk = yaml.safe_load(COMPOSE.read_text())["services"]["desk"]
    period = desk["stop_grace_period"]
    assert period.endswith("s") and int(period[:-1]) > Settings().stop_grace_seconds + STOP_AFTER_GRACE_S
