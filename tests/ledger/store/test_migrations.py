"""The schema comes from the Alembic migrations, and the models agree with it exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ledger.store.database import create_database_engine
from ledger.store.migrate import current_revision, head_revision, upgrade
from ledger.store.models import Base


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_starts_from_nothing(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= {
            "entries",
            "tree_nodes",
            "checkpoints",
            "log_state",
            "actor_keys",
            "api_tokens",
        }
    finally:
        engine.dispose()
