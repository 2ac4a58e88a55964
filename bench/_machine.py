"""Shared helpers of the benchmark scripts: the machine header, statistics and scratch databases.

Every benchmark prints the same header (CPU, cores, RAM, Python, SQLite and PostgreSQL versions,
load average) so that a figure is never quoted without the machine it was measured on.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

__all__ = [
    "DEFAULT_PG_URL",
    "machine_lines",
    "median",
    "p95",
    "pg_schema",
    "pg_server_version",
    "print_machine",
]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / (1024 * 1024):.1f} GiB"
    except OSError:
        pass
    return "unknown"


def pg_server_version(url: str) -> str | None:
    """The PostgreSQL server's version, or None when it cannot be reached."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar_one())
        finally:
            engine.dispose()
    except Exception:
        return None


def machine_lines(pg_url: str | None) -> list[str]:
    """The header lines describing this machine and the software under test."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    pg = pg_server_version(pg_url) if pg_url else None
    return [
        f"date        {datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC",
        f"cpu         {_cpu_model()}",
        f"cores       {os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})",
        f"ram         {_ram_gib()}",
        f"kernel      {platform.system()} {platform.release()}",
        f"python      {platform.python_implementation()} {platform.python_version()}",
        f"sqlite      {sqlite3.sqlite_version}",
        f"postgresql  {pg or 'not reachable'}",
        f"load avg    {load} (1, 5, 15 min, at start)",
    ]


def print_machine(title: str, pg_url: str | None) -> None:
    """Print the benchmark's title and the machine header."""
    print(f"== {title} ==")
    for line in machine_lines(pg_url):
        print(line)
    print()


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


@contextmanager
def pg_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """A fresh PostgreSQL schema of our own; yields a URL whose search_path is that schema.

    The schema is dropped on exit, so nothing else in the database is ever touched.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base_url else "?"
        try:
            yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
