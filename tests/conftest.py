"""Shared fixtures: a database per test on SQLite and, when enabled, on PostgreSQL.

PostgreSQL tests run when ``CONSULAR_LEDGER_TEST_PG_URL`` is set (``.ci/run`` sets it), e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; each test gets its own schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_ENV = "CONSULAR_LEDGER_TEST_PG_URL"
PG_SKIP = (
    f"PostgreSQL tests are off: set {PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL (no schema yet) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    base = _pg_url()
    if base is None:
        pytest.skip(PG_SKIP)
    yield from _pg_schema(base)


def _pg_schema(base: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
