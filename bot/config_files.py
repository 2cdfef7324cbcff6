"""The desk's config files: the defaults shipped inside the package, and the operator's
own folder (``HELPDESK_CONFIG_DIR``) that overrides them file by file.

The defaults (``messages.toml``, ``policy.toml``, ``tips.toml``, and ``example.env``,
the model for a ``.env``) are package data in ``bot/config/``, read through
:mod:`importlib.resources`: an installed wheel finds them wherever it runs from, with no
checkout and no particular working directory.

An operator's folder need not hold every file: each file it holds is used, and the
shipped default stands in for each one it leaves out. ``messages.toml`` goes further: it
is laid over the shipped templates key by key, so a copy made before an upgrade still has
every sentence the new version needs. A folder named on purpose is used or refused,
never silently replaced: one that does not exist, or holds none of the files, is an
error naming it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from bot.settings import SettingsError

# The files the desk reads, in the order they are described.
DESK_FILES = ("messages.toml", "policy.toml", "tips.toml")
# The commented model of a .env, every setting in it.
EXAMPLE_ENV = "example.env"


def shipped(name: str) -> Traversable:
    """The default ``name`` shipped with the package (one of :data:`DESK_FILES`, or
    :data:`EXAMPLE_ENV`)."""
    return files("bot") / "config" / name


def read_toml(path: Traversable) -> dict[str, Any]:
    """The TOML file at ``path``; a missing or malformed file is a SettingsError naming it."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{path} is missing.") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path} is not valid TOML: {error}.") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path} is not UTF-8 text.") from None
    except OSError as error:
        raise SettingsError(f"{path} cannot be read: {error.strerror}.") from None


@dataclass(frozen=True)
class ConfigFolder:
    """Where each of the desk's config files comes from: the operator's folder for the
    files it holds, the shipped defaults for the rest. Build it with :meth:`of`."""

    own: Path | None = None

    @classmethod
    def of(cls, configured: str = "") -> "ConfigFolder":
        """The folder ``HELPDESK_CONFIG_DIR`` names (empty: the shipped defaults alone);
        a SettingsError when it names no folder, or one holding none of the files."""
        if not configured:
            return cls()
        folder = Path(configured)
        # A relative path is read from the working folder, which the message names.
        shown = configured if folder.is_absolute() else f"{configured} (in {Path.cwd()})"
        if not folder.is_dir():
            raise SettingsError(
                f"HELPDESK_CONFIG_DIR is {shown}, which is not a folder; "
                "`helpdesk-bot init` writes one to customise, or leave it unset for the "
                "defaults.")
        if not any((folder / name).is_file() for name in DESK_FILES):
            raise SettingsError(
                f"HELPDESK_CONFIG_DIR is {shown}, which holds none of "
                f"{', '.join(DESK_FILES)}; `helpdesk-bot init` writes a copy of the "
                "defaults to customise, or leave it unset for the defaults.")
        return cls(folder)

    def own_file(self, name: str) -> Path | None:
        """The operator's own ``name``, when their folder holds it."""
        if self.own is not None and (self.own / name).is_file():
            return self.own / name
        return None

    def path(self, name: str) -> Traversable:
        """The ``name`` in force: the operator's when they have one, else the shipped one."""
        return self.own_file(name) or shipped(name)

    def describe(self) -> str:
        """Which file comes from where, in one line for ``helpdesk-bot check``."""
        own = [name for name in DESK_FILES if self.own_file(name)]
        if self.own is None or not own:
            return "config files as shipped"
        named = [f"{name} (over the shipped one)" if name == "messages.toml" else name
                 for name in own]
        rest = [name for name in DESK_FILES if name not in own]
        said = f"from {self.own.resolve()}: {_listed(named)}"
        return said + (f"; as shipped: {_listed(rest)}" if rest else "")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
