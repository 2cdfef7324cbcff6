"""``helpdesk-bot init [folder]``: a folder ready to run a desk from and to customise.

It writes a commented ``.env`` (the shipped ``example.env``, with ``HELPDESK_CONFIG_DIR``
pointing at the copy), a copy of the default config (``config/messages.toml``,
``policy.toml``, ``tips.toml``) and the Slack app manifest. Nothing is overwritten
unless asked (``--force``): when any of the files exists, none is written, so a second
run never loses an edited file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.config_files import DESK_FILES, EXAMPLE_ENV, shipped

# Relative on purpose: the desk reads .env from the folder it runs in, and the copy is
# found beside it; the same line works in the container, where compose.yaml mounts the
# copy at /app/config and the desk runs in /app.
CONFIG_FOLDER = "config"
_CONFIG_LINE = "# HELPDESK_CONFIG_DIR="
MANIFEST = "slack-manifest.yaml"

# What each written file is for, as the output lists it.
_PURPOSES = {
    ".env": "settings, each one explained; uncomment what you need",
    "config/messages.toml": "every sentence the desk says; keys you delete keep the shipped words",
    "config/policy.toml": "business hours, holidays and SLA targets for new workspaces",
    "config/tips.toml": "the tips offered when a ticket closes",
    MANIFEST: "paste it when you create the Slack app (api.slack.com/apps)",
}


class InitError(Exception):
    """``init`` wrote nothing; the message says why and what to do."""


@dataclass(frozen=True)
class Planned:
    """One file ``init`` writes: where, and its text."""

    relative: str
    text: str


def env_text() -> str:
    """The shipped ``example.env`` as a ``.env``, its HELPDESK_CONFIG_DIR line switched on
    and pointing at the copy of the config."""
    lines = shipped(EXAMPLE_ENV).read_text(encoding="utf-8").splitlines(keepends=True)
    at = next((n for n, line in enumerate(lines) if line.startswith(_CONFIG_LINE)), None)
    if at is None:  # the shipped file and this module disagree: a bug, said plainly
        raise InitError(f"the shipped {EXAMPLE_ENV} has no {_CONFIG_LINE} line to set")
    lines[at] = f"HELPDESK_CONFIG_DIR={CONFIG_FOLDER}\n"
    header = ("# Written by `helpdesk-bot init`. HELPDESK_CONFIG_DIR below points at the copy\n"
              "# of the default config beside this file; the rest is as shipped.\n#\n")
    return header + "".join(lines)


def plan() -> list[Planned]:
    """Every file ``init`` writes, relative to its folder, in the order listed."""
    files = [Planned(".env", env_text())]
    files += [Planned(f"{CONFIG_FOLDER}/{name}", shipped(name).read_text(encoding="utf-8"))
              for name in DESK_FILES]
    files.append(Planned(MANIFEST, shipped(MANIFEST).read_text(encoding="utf-8")))
    return files


def init(folder: Path, *, force: bool = False) -> list[Path]:
    """Write :func:`plan` into ``folder`` (created if missing); return the paths written.
    Raises InitError, having written nothing, when a file exists and ``force`` is off or
    the folder cannot be used."""
    files = plan()
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder} is a file, not a folder; name a folder to write into")
    existing = [folder / f.relative for f in files if (folder / f.relative).exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise InitError(f"{names} already exist{'s' if len(existing) == 1 else ''}; "
                        "nothing was written. Run again with --force to replace "
                        f"{'it' if len(existing) == 1 else 'them'} with the defaults.")
    written = []
    try:
        for f in files:
            path = folder / f.relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.text, encoding="utf-8")
            if f.relative == ".env":
                os.chmod(path, 0o600)  # it will hold the platform tokens
            written.append(path)
    except OSError as error:
        where = error.filename or folder
        raise InitError(f"cannot write {where}: {error.strerror}"
                        + (f" (written so far: {', '.join(map(str, written))})" if written
                           else "; nothing was written")) from None
    return written


def report(folder: Path, out: TextIO, *, here: Path) -> None:
    """Tell what was written and what to do next; ``here`` is the working directory."""
    shown = folder.resolve()
    out.write(f"Wrote a desk to customise in {shown}:\n")
    width = max(len(name) for name in _PURPOSES)
    for name, purpose in _PURPOSES.items():
        out.write(f"  {name:<{width}}  {purpose}\n")
    steps = []
    if shown != here.resolve():
        steps.append(f"cd {shown}   (the desk reads .env and config/ from the folder it "
                     "runs in)")
    steps += [
        "in .env, set SLACK_BOT_TOKEN (with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET)\n"
        "     or DISCORD_BOT_TOKEN, and HELPDESK_DATABASE_URL; with no token the desk\n"
        "     runs in this terminal (the console)",
        "helpdesk-bot check   (says what is missing, never printing a secret)",
        "helpdesk-bot run",
    ]
    out.write("Next:\n")
    for number, step in enumerate(steps, 1):
        out.write(f"  {number}. {step}\n")
