from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from ledger.crypto.actor_keys import ActorKey
from ledger.sequencer import SequencerConfig
from ledger.services.log import LogConfig, LogService
from ledger.store.database import create_database_engine
from ledger.store.migrate import upgrade

ORIGIN = "test.consular-ledger.example/log"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def log_key() -> ActorKey:
    return ActorKey.generate()


@pytest.fixture
def operator() -> ActorKey:
    return ActorKey.generate()


@pytest.fixture
def service(engine: Engine, log_key: ActorKey, operator: ActorKey) -> Iterator[LogService]:
    config = LogConfig(ORIGIN, SequencerConfig(max_batch=64, max_wait=0.005))
    svc = LogService(engine, log_key, config)
    svc.bootstrap(operator)
    yield svc
    svc.close()
