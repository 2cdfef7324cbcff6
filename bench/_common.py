"""Helpers shared by the benchmarks: the machine they ran on, percentiles, memory,
readable tables and the one-JSON-object-per-line results.

Nothing here imports the bot, so any benchmark (or a scratch script) can use it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import sqlite3
import sys
import time
from contextlib import contextmanager
from importlib import metadata
from typing import Any, Iterable, Iterator, Sequence

# --------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _os_name() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    name = line.split("=", 1)[1].strip().strip('"')
                    return f"{name} (kernel {platform.release()})"
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages now: on a shared machine, how busy the
    neighbours were while the figures were taken (two cores: above 2 means waiting)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine(postgres_version: str | None = None,
            packages: Sequence[str] = ("sqlalchemy", "aiosqlite", "asyncpg", "apscheduler",
                                       "alembic")) -> dict[str, Any]:
    """What the benchmark ran on, as a flat dict (pass the server's version string for
    PostgreSQL when a benchmark used it)."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": _os_name(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_avg_at_start": load_average(),
    }
    if postgres_version:
        info["postgresql"] = postgres_version
    for package in packages:
        version = _version(package)
        if version:
            info[package] = version
    return info


def describe_machine(info: dict[str, Any]) -> str:
    """The machine as a few readable lines."""
    libraries = ", ".join(f"{k} {v}" for k, v in info.items()
                          if k not in {"cpu", "cores", "ram_gib", "os", "python", "sqlite",
                                       "postgresql", "load_avg_at_start"})
    lines = [
        f"CPU:        {info.get('cpu')} ({info.get('cores')} cores visible)",
        f"RAM:        {info.get('ram_gib')} GiB",
        f"OS:         {info.get('os')}",
        f"Python:     {info.get('python')}",
        f"SQLite:     {info.get('sqlite')}",
        f"Load:       {info.get('load_avg_at_start')} (1/5/15-minute averages at the start)",
    ]
    if info.get("postgresql"):
        lines.append(f"PostgreSQL: {info['postgresql']}")
    if libraries:
        lines.append(f"Libraries:  {libraries}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks;
    NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def summarize(values: Sequence[float]) -> dict[str, float]:
    """n, min, p50, p90, p99, max and mean of ``values``."""
    if not values:
        return {"n": 0, "min": math.nan, "p50": math.nan, "p90": math.nan, "p99": math.nan,
                "max": math.nan, "mean": math.nan}
    return {"n": len(values), "min": float(min(values)), "p50": percentile(values, 50),
            "p90": percentile(values, 90), "p99": percentile(values, 99),
            "max": float(max(values)), "mean": sum(values) / len(values)}


# --------------------------------------------------------------------------- memory


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB (ru_maxrss; never goes down)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """The process's resident set size right now, in MiB (Linux only, else None)."""
    try:
        with open("/proc/self/statm", encoding="utf-8") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- timing


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """``with stopwatch() as t: ...`` then ``t["s"]`` is the elapsed wall time in seconds."""
    result = {"s": math.nan}
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["s"] = time.perf_counter() - start


# --------------------------------------------------------------------------- output


def fmt(value: Any, digits: int = 2) -> str:
    """A number for a table: thousands separators for big ones, ``-`` for none/NaN."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None,
          digits: int = 2) -> str:
    """A plain-text table, numbers right-aligned, as a string."""
    cells = [[fmt(c, digits) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    numeric = [all(_looks_numeric(row[i]) for row in cells) if cells else False
               for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(list(headers)))
    out.append("  ".join("-" * w for w in widths))
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def _looks_numeric(text: str) -> bool:
    return text == "-" or text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def json_line(obj: dict[str, Any]) -> str:
    """One result as one line of JSON (floats rounded, NaN as null), keys in given order."""
    return json.dumps(_clean(obj), separators=(", ", ": "))


def emit(obj: dict[str, Any]) -> None:
    """Print one result line and flush, so a parent process or a pipe sees it at once."""
    print(json_line(obj), flush=True)


# --------------------------------------------------------------------------- shared set-up

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/helpdesk_bench"


def say(text: str = "") -> None:
    """Print and flush (children's output is streamed through their parent)."""
    print(text, flush=True)


def postgres_dsn(url: str, database: str | None = None) -> str:
    """asyncpg's DSN for a SQLAlchemy ``url``, or for ``database`` on the same server."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def prepare_postgres(url: str, schema: str) -> str:
    """Create the database if missing, empty ``schema``; returns the server version."""
    import asyncpg
    from sqlalchemy.engine import make_url

    try:
        conn = await asyncpg.connect(postgres_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(postgres_dsn(url, "postgres"))
        try:
            await admin.execute(f'CREATE DATABASE "{make_url(url).database or "helpdesk_bench"}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(postgres_dsn(url))
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


def use_schema(engine, schema: str) -> None:
    """Point every new PostgreSQL connection of ``engine`` (an AsyncEngine) at ``schema``,
    the bench's own; SQLite needs nothing."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _schema(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET search_path TO {schema}")
        cursor.close()
