"""Knowledge-base search: quality on a labelled set and latency, on SQLite and PostgreSQL.

    .venv/bin/python bench/kb.py --articles ../shared/kb-eval/articles \\
        --queries ../shared/kb-eval/queries.jsonl [--db sqlite|postgres|both]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/helpdesk_bench]

Imports the articles with the same code as ``helpdesk-bot kb import`` into a fresh
database, then runs every query through the desk's own intake path
(``bot.desk.features.knowledge.suggest``: search, the shipped confidence threshold, at
most three, never internal) and reports per database:

- recall@3: share of answerable queries whose expected article is among the suggestions;
- MRR@3: mean of 1/rank of the first expected article (0 when none is shown);
- false suggestion rate: share of unanswerable queries (``expect: []``) given any;
- search latency p50/p99 over all queries (each run three times, after one warm-up
  search that loads the term statistics), then p99 again with the corpus padded to
  10,000 articles (generated: made-up words by a Zipf law, one word in six from the
  real articles; see ``_pad``).

``--embeddings`` searches by sentence embeddings instead (the ``kb-embeddings`` extra,
bot/storage/kb_vectors.py), as a desk with ``HELPDESK_KB_EMBEDDINGS=on`` does; the
articles are embedded at the warm-up search, outside the timings.

The evaluation data is read from the paths given, never copied into the project, and
nothing in the search is tuned to individual queries. One JSON line per database:
``{"bench": "kb", "db": ..., "recall_at_3": ..., "mrr_at_3": ..., "false_suggestion_rate":
..., "p99_ms": ..., "p99_ms_10k": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench import _common as common  # noqa: E402
from bot.domain.knowledge import SUGGEST_THRESHOLD, index_terms, words  # noqa: E402
from bot.desk.features.knowledge import suggest  # noqa: E402
from bot.kb_files import import_folder  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.tables import KbArticleRow, WorkspaceRow  # noqa: E402
from bot.storage.uow import Database  # noqa: E402
from bot.templates import Templates  # noqa: E402

PADDED = 10_000
REPEAT = 3


async def _fresh(url: str) -> Database:
    db = Database.from_url(url)
    async with db.engine.begin() as connection:
        from bot.storage.tables import Base
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    await migrate.upgrade(db.engine)
    return db


async def _latencies(db: Database, workspace_id: int, queries: list[dict]) -> list[float]:
    async with db.reading() as uow:
        await suggest(uow, workspace_id, "warm up")  # loads the term statistics once
    times = []
    for _ in range(REPEAT):
        for query in queries:
            async with db.reading() as uow:
                start = time.perf_counter()
                await suggest(uow, workspace_id, query["q"])
                times.append((time.perf_counter() - start) * 1000)
    return times


def _generated_vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    """Pronounceable made-up words ("tolvaner"), none of them an English word the
    articles use, so padding adds competition without inventing answers."""
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    return ["".join(rng.choices(syllables, k=rng.randint(2, 4))) + rng.choice("nrstlx")
            for _ in range(size)]


async def _pad(db: Database, workspace_id: int, articles: Path, target: int) -> None:
    """Generated articles up to ``target``. A real knowledge base of 10,000 articles has
    a large vocabulary with a long tail, so most words are made up and drawn by a Zipf
    law; one word in six comes from the real articles (by their own frequencies), so the
    real terms grow common too and the index has real competition to rank."""
    real = [w for path in sorted(articles.glob("*.md"))
            for w in words(path.read_text(encoding="utf-8"))]
    rng = random.Random(16)
    made_up = _generated_vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(made_up))]

    def draw(k: int) -> list[str]:
        out = rng.choices(made_up, weights=weights, k=k)
        return [rng.choice(real) if rng.random() < 1 / 6 else w for w in out]

    async with db.unit_of_work() as uow:
        have = len(await uow.kb.all(workspace_id))
        now = uow.clock.now()
        rows = []
        for n in range(have + 1, target + 1):
            title = " ".join(draw(rng.randint(3, 7)))
            body = " ".join(draw(rng.randint(80, 250)))
            tags = ["generated"] + draw(2)
            t, g, b = index_terms(title, tags, body)
            rows.append(dict(workspace_id=workspace_id, number=n + 1000, title=title[:300],
                             body=body, tags=" ".join(tags), title_terms=t, tags_terms=g,
                             body_terms=b, suggested_count=0, opened_count=0,
                             helpful_count=0, created_at=now, updated_at=now))
        for start in range(0, len(rows), 1000):
            await uow.session.execute(sa.insert(KbArticleRow), rows[start:start + 1000])
        await uow.session.execute(sa.update(WorkspaceRow).where(WorkspaceRow.id == workspace_id)
                                  .values(kb_revision=WorkspaceRow.kb_revision + 1))
    if db.engine.dialect.name == "postgresql":
        # Committed (engine.begin): an ANALYZE rolled back leaves the planner guessing.
        async with db.engine.begin() as connection:
            await connection.execute(sa.text("ANALYZE kb_articles"))


async def run(db_name: str, url: str, articles: Path, queries: list[dict],
              pad: int = PADDED, vectors=None) -> dict:
    db = await _fresh(url)
    db.kb_vectors = vectors
    try:
        report = await import_folder(db, articles, Templates.load())
        async with db.reading() as uow:
            workspace_id = (await uow.session.execute(sa.select(WorkspaceRow.id))).scalar_one()
        answerable = [q for q in queries if q["expect"]]
        unanswerable = [q for q in queries if not q["expect"]]
        hits = reciprocal = false = 0
        for query in queries:
            async with db.reading() as uow:
                shown = [m.article.ref for m in await suggest(uow, workspace_id, query["q"])]
            if not query["expect"]:
                false += bool(shown)
                continue
            rank = next((i + 1 for i, ref in enumerate(shown) if ref in query["expect"]), None)
            if rank:
                hits += 1
                reciprocal += 1 / rank
        times = await _latencies(db, workspace_id, queries)
        times_10k = [float("nan")]
        if pad:
            await _pad(db, workspace_id, articles, pad)
            times_10k = await _latencies(db, workspace_id, queries)
        result = {
            "bench": "kb", "db": db_name, "threshold": SUGGEST_THRESHOLD,
            "search": "embeddings" if vectors is not None else "lexical",
            "articles": len(report.created) + len(report.updated),
            "answerable": len(answerable), "unanswerable": len(unanswerable),
            "recall_at_3": hits / len(answerable) if answerable else None,
            "mrr_at_3": reciprocal / len(answerable) if answerable else None,
            "false_suggestions": false,
            "false_suggestion_rate": false / len(unanswerable) if unanswerable else None,
            "p50_ms": common.percentile(times, 50), "p99_ms": common.percentile(times, 99),
            "p50_ms_10k": common.percentile(times_10k, 50),
            "p99_ms_10k": common.percentile(times_10k, 99),
        }
        return result
    finally:
        await db.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", required=True, type=Path)
    parser.add_argument("--queries", required=True, type=Path)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pad", type=int, default=PADDED,
                        help="pad the corpus to this many articles for the second latency "
                             "run (0: skip it)")
    parser.add_argument("--embeddings", action="store_true",
                        help="search by sentence embeddings (the kb-embeddings extra), as "
                             "HELPDESK_KB_EMBEDDINGS=on does")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "HELPDESK_BENCH_POSTGRES_URL", common.DEFAULT_PG_URL))
    args = parser.parse_args()
    queries = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    targets = []
    if args.db in ("sqlite", "both"):
        targets.append(("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='kb-bench-')}/kb.sqlite3"))
    if args.db in ("postgres", "both"):
        await common.prepare_postgres(args.postgres_url, "public")
        targets.append(("postgres", args.postgres_url))
    embedder = None
    if args.embeddings:
        from bot.storage.kb_vectors import Embedder
        embedder = Embedder()
    for name, url in targets:
        # A fresh cache per database (its article ids are its own), one model for all.
        vectors = None
        if embedder is not None:
            from bot.storage.kb_vectors import KbVectors
            vectors = KbVectors(embedder)
        common.emit(await run(name, url, args.articles, queries, args.pad, vectors))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
