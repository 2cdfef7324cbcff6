"""The README's console example is what the console prints (issue 14: it had gone stale,
showing a 90-second follow-up counted in wall-clock time long after spans came to count
in the desk's open hours).

The example is a terminal session: a line after a prompt (``Sam (agent)> ``) is what was
typed, and every other line is what the console printed. Played as piped input, on a
clock started where the README says (a Monday at 10:00 UTC), the console must print
exactly those other lines.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.flows.story import MONDAY
from tests.support.console import play

README = Path(__file__).resolve().parents[3] / "README.md"
PROMPT = re.compile(r"^[A-Z][\w .'-]* \((?:requester|agent|admin)\)> (.*)$")


def readme_example() -> tuple[str, str]:
    """The console example's typed lines (as a script) and its printed lines."""
    section = README.read_text(encoding="utf-8").split("## The console\n", 1)[1]
    block = section.split("```text\n", 1)[1].split("\n```", 1)[0]
    typed, printed = [], []
    for line in block.splitlines():
        match = PROMPT.match(line)
        if match:
            typed.append(match.group(1))
        else:
            printed.append(line)
    return "".join(f"{line}\n" for line in typed), "".join(f"{line}\n" for line in printed)


def test_the_example_is_read_from_the_readme():
    script, printed = readme_example()
    assert script.startswith("My VPN keeps dropping\n/as agent\n") and "/wait" in script
    assert printed.startswith("[DM with Alex · ticket #1] Help Desk:\n")
    assert "a Monday at 10:00 UTC" in " ".join(README.read_text(encoding="utf-8").split())
    assert MONDAY.weekday() == 0 and (MONDAY.hour, MONDAY.minute) == (10, 0)


async def test_the_readme_console_example_is_what_the_console_prints(sqlite_url):
    script, printed = readme_example()
    assert await play(sqlite_url, script, start=MONDAY) == printed
