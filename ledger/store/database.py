"""Opening the database: one URL, SQLite (WAL, embedded default) or PostgreSQL (psycopg 3).

SQLite is set up for a log that must not lose acknowledged writes: WAL journal with
``synchronous=FULL`` (a commit is on disk before it returns), a busy timeout so concurrent
writers queue instead of failing, and transactions that begin explicitly so a writer can take
the write lock up front (``BEGIN IMMEDIATE``) rather than fail when upgrading a read lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from ledger.errors import MalformedError

__all__ = ["WRITE", "create_database_engine", "is_sqlite", "writing"]

#: Execution options for a connection that will write: on SQLite it takes the write lock at BEGIN.
WRITE = {"sqlite_begin": "IMMEDIATE"}

_BUSY_TIMEOUT_S = 60


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction (on SQLite the write lock is taken at BEGIN, so two
    writers queue instead of deadlocking); committed when the block ends, rolled back on error."""
    with engine.connect() as conn:
        conn.execution_options(**WRITE)
        with conn.begin():
            yield conn


def is_sqlite(engine: Engine | Connection) -> bool:
    """True when the engine talks to SQLite (which has no ``SELECT … FOR UPDATE``)."""
    return engine.dialect.name == "sqlite"


def create_database_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``).

    A SQLite file's folder is created if missing. Raises :class:`MalformedError` for a URL of
    any other kind, so a typo fails at start, not at the first request.
    """
    try:
        parsed = make_url(url)
    except Exception:
        raise MalformedError("malformed database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
    raise MalformedError(
        f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://"
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred-only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
