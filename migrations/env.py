"""Alembic environment: runs on a connection handed over by ``ledger.store.migrate`` or, from
the ``alembic`` command line, on the URL in ``CONSULAR_LEDGER_DATABASE_URL`` / ``alembic.ini``."""

from __future__ import annotations

import os

from alembic import context

from ledger.store.database import create_database_engine
from ledger.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("CONSULAR_LEDGER_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set CONSULAR_LEDGER_DATABASE_URL or sqlalchemy.url in alembic.ini")
    engine = create_database_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()
