"""The dashboard pages' figures of two versions of the code, side by side, on the same
databases that ``bench/reports.py`` loaded: rounds that alternate between the two, so
a shared machine's load falls on both alike.

    .venv/bin/python bench/reports_ab.py --other /tmp/main-tree \
        [--db sqlite|postgres|both] [--rounds 5] \
        [--postgres-url postgresql://postgres@127.0.0.1:5432/helpdesk_bench_reports] \
        [--sqlite-path /tmp/reports.sqlite3]

``--other`` is a source tree of the other version (for example ``git archive main |
tar -x -C /tmp/main-tree``). Each round runs, in a fresh process each, this tree's
``bench.reports.measure`` then the other's (one pass: every page with every filter of
:func:`bench.reports.filters`, after a warm-up pass), and the next round the other
first. Both ask for the parts this tree's ``bench.reports.PAGES`` names for each page.
The databases are brought to this tree's newest migration first (an index the other
version does not use does no harm to it); nothing is loaded.

One JSON line per database and version: ``{"bench": "reports_ab", "db": ...,
"code": "this"|"other", "tickets": ..., "page_p99_ms": ..., "by_page": {page: p99},
"by_page_p50": {...}, "rounds": ..., "load_average": [...]}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from bench import _common as common  # noqa: E402
from bench.reports import DEFAULT_URL, PAGES  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.uow import Database  # noqa: E402

# Run in the child: one pass of one tree's measure(), its timings as JSON on stdout.
CHILD = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import bot
import bench.reports as bench
from bench.reports import measure
# Both versions measure the same parts per page: this tree's list.
bench.PAGES = {page: frozenset(parts) for page, parts in json.loads(sys.argv[3]).items()}
print(json.dumps({"bot": bot.__file__, "timings": asyncio.run(measure(sys.argv[2], 1, None))}))
"""


def one_pass(tree: Path, url: str) -> dict[str, list[float]]:
    """Every page's timings of one pass of ``tree``'s code, in a fresh process."""
    pages = json.dumps({page: sorted(parts) for page, parts in PAGES.items()})
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), url, pages], cwd=tree,
                          env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                          capture_output=True, text=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    # The editable install of this tree must not stand in for the other's code.
    if not Path(answer["bot"]).resolve().is_relative_to(tree):
        raise RuntimeError(f"measured {answer['bot']}, not the code in {tree}")
    return answer["timings"]


async def tickets_in(url: str) -> int:
    from sqlalchemy import text
    db = Database.from_url(url)
    try:
        async with db.reading() as uow:
            return (await uow.session.execute(text("SELECT max(id) FROM tickets"))).scalar_one()
    finally:
        await db.dispose()


async def upgrade(url: str) -> None:
    db = Database.from_url(url)
    try:
        await migrate.upgrade(db.engine)
    finally:
        await db.dispose()


def compare(name: str, url: str, other: Path, rounds: int) -> list[dict]:
    asyncio.run(upgrade(url))
    tickets = asyncio.run(tickets_in(url))
    trees = {"this": HERE, "other": other}
    timings: dict[str, dict[str, list[float]]] = {code: {} for code in trees}
    loads = []
    for n in range(rounds):
        order = ("this", "other") if n % 2 == 0 else ("other", "this")
        for code in order:
            for page, values in one_pass(trees[code], url).items():
                timings[code].setdefault(page, []).extend(values)
        loads.append(common.load_average())
        common.say(f"{name}: round {n + 1} of {rounds} done, load {loads[-1]}")
    results, rows = [], []
    for code in trees:
        by_page = {page: round(common.percentile(v, 99), 1) for page, v in timings[code].items()}
        p50 = {page: round(common.percentile(v, 50), 1) for page, v in timings[code].items()}
        for page in by_page:
            rows.append((code, page, len(timings[code][page]), common.fmt(p50[page], 1),
                         common.fmt(by_page[page], 1)))
        results.append({"bench": "reports_ab", "db": name, "code": code, "tickets": tickets,
                        "page_p99_ms": max(by_page.values()), "by_page": by_page,
                        "by_page_p50": p50, "rounds": rounds,
                        "tree": str(trees[code]), "load_average": loads})
    common.say(common.table(("code", "page", "runs", "p50 ms", "p99 ms"), rows,
                            title=f"{name}: this tree and {other}, {tickets:,} tickets"))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=Path, required=True,
                        help="a source tree of the version to compare with")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "HELPDESK_BENCH_REPORTS_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--sqlite-path", help="the file bench/reports.py loaded")
    args = parser.parse_args()
    if args.db != "postgres" and not args.sqlite_path:
        parser.error("SQLite needs --sqlite-path")
    common.say(common.describe_machine(common.machine()))
    results = []
    if args.db in ("sqlite", "both"):
        results += compare("sqlite", f"sqlite:///{args.sqlite_path}", args.other.resolve(),
                           args.rounds)
    if args.db in ("postgres", "both"):
        results += compare("postgres", args.postgres_url, args.other.resolve(), args.rounds)
    for result in results:
        common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
