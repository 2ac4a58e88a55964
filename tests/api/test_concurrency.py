"""Four processes append 500 entries each, at once, to one database: 2,000 consecutive indexes
and one consistent tree (the database lock, not a process-local one, keeps the sequence)."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger import merkle
from ledger.crypto.actor_keys import ActorKey
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.entry import sign_entry
from ledger.formats.note import parse_vkey
from ledger.sequencer import SequencerConfig
from ledger.services.log import LogConfig, LogService
from ledger.store.database import create_database_engine
from ledger.store.migrate import upgrade
from ledger.store.models import CheckpointRow

ORIGIN = "concurrency.test/log"
PER_PROCESS = 500
PROCESSES = 4


def _writer(url: str, log_seed: bytes, operator_seed: bytes, worker: int, start, out) -> None:  # type: ignore[no-untyped-def]
    operator = ActorKey(operator_seed)
    entries = [
        sign_entry("log.note", {"text": f"p{worker} e{i}"}, operator).encode()
        for i in range(PER_PROCESS)
    ]
    engine = create_database_engine(url)
    service = LogService(
        engine, ActorKey(log_seed), LogConfig(ORIGIN, SequencerConfig(max_batch=32, max_wait=0.01))
    )
    start.wait()
    futures = [service.append(entry) for entry in entries]
    out.put([future.result(timeout=120).index for future in futures])
    service.close()
    engine.dispose()


@pytest.mark.slow
def test_four_processes_get_one_sequence(database_url: str, tmp_path: Path) -> None:
    log_key, operator = ActorKey.generate(), ActorKey.generate()
    engine = create_database_engine(database_url)
    upgrade(engine)
    service = LogService(engine, log_key, LogConfig(ORIGIN))
    service.bootstrap(operator)
    service.close()

    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_writer, args=(database_url, log_key.seed, operator.seed, w, start, out))
        for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.set()
    indexes = [index for _ in workers for index in out.get(timeout=300)]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    assert sorted(indexes) == list(range(1, PROCESSES * PER_PROCESS + 1))
    reader = LogService(engine, log_key, LogConfig(ORIGIN))
    try:
        size = reader.store.size()
        assert size == PROCESSES * PER_PROCESS + 1
        leaves = [merkle.leaf_hash(e) for e in reader.store.entries(0, size)]
        verifier = parse_vkey(reader.vkey)
        with engine.connect() as conn:
            notes = conn.execute(select(CheckpointRow.note).order_by(CheckpointRow.size)).scalars()
            checkpoints = [open_checkpoint(note, verifier, ORIGIN) for note in notes]
        assert checkpoints[-1].size == size and checkpoints[-1].root == merkle.root(leaves)
        for older, newer in itertools.pairwise(checkpoints):
            assert older.size < newer.size
            proof = reader.store.consistency_proof(older.size, newer.size)
            merkle.verify_consistency(older.size, newer.size, proof, older.root, newer.root)
    finally:
        reader.close()
        engine.dispose()
