"""The stored log against independent computation: every proof the store serves is checked
with the RFC 9162 verifiers and against roots recomputed from all leaves."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update

from ledger import merkle
from ledger.crypto.actor_keys import ActorKey
from ledger.entries import admit
from ledger.errors import ConflictError, MalformedError, NotFoundError
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.entry import sign_entry
from ledger.formats.note import parse_vkey
from ledger.services.log import LogService
from ledger.store.models import CheckpointRow, TreeNode

from .conftest import ORIGIN


def _notes(service: LogService, operator: ActorKey, n: int, tag: str = "") -> list[bytes]:
    return [sign_entry("log.note", {"text": f"note {tag}{i}"}, operator).encode() for i in range(n)]


def _append_all(service: LogService, entries: list[bytes]) -> list[int]:
    futures = [service.append(e) for e in entries]
    return [f.result(timeout=30).index for f in futures]


def _all_leaves(service: LogService) -> list[bytes]:
    size = service.store.size()
    return [merkle.leaf_hash(e) for e in service.store.entries(0, size)]


def test_bootstrap_puts_the_operator_key_first(service: LogService, operator: ActorKey) -> None:
    assert service.store.size() == 1
    (first,) = service.store.entries(0, 1)
    assert b'"trust.key_added"' in first and operator.key_id.encode() in first
    service.bootstrap(operator)  # a second call changes nothing
    assert service.store.size() == 1


def test_indexes_are_consecutive_and_proofs_verify(service: LogService, operator: ActorKey) -> None:
    indexes = _append_all(service, _notes(service, operator, 300))
    assert indexes == list(range(1, 301))
    leaves = _all_leaves(service)
    size = len(leaves)
    root = merkle.root(leaves)
    latest = service.store.latest_checkpoint()
    assert latest is not None and latest.size == size and latest.root == root
    for index in (0, 1, 2, 127, 128, 255, 256, 299, 300):
        proof = service.store.inclusion_proof(index, size)
        assert proof == merkle.inclusion_proof(leaves, index)
        merkle.verify_inclusion(leaves[index], index, size, proof, root)
    for old in (1, 2, 3, 64, 255, 256, 257, 300):
        proof = service.store.consistency_proof(old, size)
        assert proof == merkle.consistency_proof(leaves, old)
        merkle.verify_consistency(old, size, proof, merkle.root(leaves[:old]), root)


def test_every_checkpoint_is_signed_and_consistent_with_the_previous(
    service: LogService, operator: ActorKey
) -> None:
    for batch in range(5):
        _append_all(service, _notes(service, operator, 7 * batch + 1, f"b{batch}-"))
    verifier = parse_vkey(service.vkey)
    leaves = _all_leaves(service)
    with service.store.engine.connect() as conn:
        rows = conn.execute(select(CheckpointRow.size, CheckpointRow.note).order_by("size")).all()
    sizes = [size for size, _ in rows]
    assert sizes == sorted(set(sizes)) and len(rows) >= 2
    previous = None
    for size, note in rows:
        cp = open_checkpoint(note, verifier, ORIGIN)
        assert cp.size == size and cp.root == merkle.root(leaves[:size])
        if previous is not None:
            proof = service.store.consistency_proof(previous.size, cp.size)
            merkle.verify_consistency(previous.size, cp.size, proof, previous.root, cp.root)
        previous = cp


def test_a_repeated_entry_keeps_its_index(service: LogService, operator: ActorKey) -> None:
    (entry,) = _notes(service, operator, 1)
    first = service.append(entry).result(timeout=10)
    again = service.append(entry).result(timeout=10)
    assert not first.duplicate and again.duplicate and again.index == first.index
    assert service.store.size() == 2


def test_the_same_entry_twice_in_one_batch_is_stored_once(
    service: LogService, operator: ActorKey
) -> None:
    (entry,) = _notes(service, operator, 1)
    item = service.admit(entry)
    outcomes = service.store.integrate([item, item])
    assert [o.index for o in outcomes] == [1, 1]  # type: ignore[union-attr]
    assert service.store.size() == 2


def test_a_key_added_twice_is_a_conflict_and_the_batch_goes_on(
    service: LogService, operator: ActorKey
) -> None:
    officer = ActorKey.generate()
    body = {
        "key_id": officer.key_id,
        "public_key": __import__("base64").b64encode(officer.public_key).decode(),
        "name": "desk 1",
        "types": ["log.note"],
    }
    first = service.admit(sign_entry("trust.key_added", body, operator).encode())
    second = service.admit(
        sign_entry("trust.key_added", {**body, "name": "desk 2"}, operator).encode()
    )
    note = service.admit(_notes(service, operator, 1)[0])
    outcomes = service.store.integrate([first, second, note])
    assert outcomes[0].index == 1 and outcomes[2].index == 2  # type: ignore[union-attr]
    assert isinstance(outcomes[1], ConflictError)
    assert service.actor(officer.key_id) is not None
    # the officer may now write notes, and nothing else
    written = service.append(sign_entry("log.note", {"text": "from desk"}, officer).encode())
    assert written.result(timeout=10).index == 3


def test_proof_arguments_out_of_range_are_refused(service: LogService) -> None:
    with pytest.raises(MalformedError):
        service.store.inclusion_proof(1, 1)
    with pytest.raises(NotFoundError):
        service.store.inclusion_proof(0, 5)
    with pytest.raises(MalformedError):
        service.store.consistency_proof(0, 1)
    with pytest.raises(NotFoundError):
        service.store.consistency_proof(1, 9)
    with pytest.raises(NotFoundError):
        service.store.hash_tile(0, 0, 2)
    with pytest.raises(NotFoundError):
        service.store.entry_bundle(0, 2)


def test_a_new_process_continues_from_the_stored_tree(
    engine: Engine, service: LogService, operator: ActorKey, log_key: ActorKey
) -> None:
    _append_all(service, _notes(service, operator, 40))
    other = LogService(engine, log_key, service.config)  # no cached right edge
    try:
        other.append(_notes(other, operator, 1, "other")[0]).result(timeout=10)
        _append_all(service, _notes(service, operator, 3, "again"))
    finally:
        other.close()
    leaves = _all_leaves(service)
    assert len(leaves) == 45
    latest = service.store.latest_checkpoint()
    assert latest is not None and latest.root == merkle.root(leaves)


def test_a_missing_tree_node_stops_integration(
    engine: Engine, service: LogService, operator: ActorKey, log_key: ActorKey
) -> None:
    _append_all(service, _notes(service, operator, 3))
    with engine.begin() as conn:
        conn.execute(update(TreeNode).where(TreeNode.level == 2).values(level=40))
    fresh = LogService(engine, log_key, service.config)
    try:
        future = fresh.append(_notes(fresh, operator, 1, "x")[0])
        with pytest.raises(Exception, match="retry later"):
            future.result(timeout=10)
    finally:
        fresh.close()
    assert fresh.store.size() == 4


def test_admission_uses_the_log_key_registry(service: LogService) -> None:
    stranger = ActorKey.generate()
    entry = sign_entry("log.note", {"text": "hi"}, stranger).encode()
    with pytest.raises(Exception, match="unknown actor key"):
        admit(entry, service)
