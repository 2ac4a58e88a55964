"""RFC 9162 Merkle hashing, proofs, verification and the stored-tree plans."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import InvalidDataError, MalformedError
from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    consistency_proof_plan,
    fold_range,
    inclusion_proof,
    inclusion_proof_plan,
    leaf_hash,
    node_hash,
    range_nodes,
    verify_consistency,
    verify_inclusion,
)
from tests.ledger.tlog.vectors import b64, load, merkle_params

MAX_N = 2000
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_N)]


def all_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree hash (level, index) of the tree, built independently, bottom-up."""
    nodes = {(0, i): h for i, h in enumerate(leaves)}
    level, row = 0, list(leaves)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
        nodes.update({(level, i): h for i, h in enumerate(row)})
    return nodes


NODES = all_nodes(LEAVES)


def run_plan(plan: list[list[tuple[int, int]]], size: int) -> list[bytes]:
    for group in plan:
        for level, index in group:
            assert (index + 1) << level <= size, "plan reads a node outside the tree"
    return [fold_range([NODES[n] for n in group]) for group in plan]


# --- vectors -------------------------------------------------------------------------------


def test_reference_tree_roots() -> None:
    ref = load("rfc6962_reference_tree")
    leaves = [leaf_hash(bytes.fromhex(h)) for h in ref["leaf_inputs_hex"]]
    for n, want in enumerate(ref["root_hashes_hex"]):
        assert merkle.root(leaves[:n]).hex() == want
        assert fold_range([all_nodes(leaves[:n])[x] for x in range_nodes(0, n)]).hex() == want


@pytest.mark.parametrize(
    "vector",
    load("rfc6962_reference_tree")["hash_vectors"],
    ids=lambda v: v["kind"] + ":" + v["desc"][:30],
)
def test_hash_vectors(vector: dict) -> None:
    if vector["kind"] == "empty":
        got = EMPTY_ROOT
    elif vector["kind"] == "leaf":
        got = leaf_hash(vector["input_ascii"].encode())
    else:
        got = node_hash(vector["left_ascii"].encode(), vector["right_ascii"].encode())
    assert got.hex() == vector["want"]


@pytest.mark.parametrize("v", merkle_params("inclusion"))
def test_inclusion_vector(v: dict) -> None:
    args = (
        b64(v["leafHash"]),
        v["leafIdx"],
        v["treeSize"],
        [b64(p) for p in v["proof"] or []],
        b64(v["root"]),
    )
    if v["wantErr"]:
        with pytest.raises(InvalidDataError):
            verify_inclusion(*args)
    else:
        assert verify_inclusion(*args) is None


@pytest.mark.parametrize("v", merkle_params("consistency"))
def test_consistency_vector(v: dict) -> None:
    args = (
        v["size1"],
        v["size2"],
        [b64(p) for p in v["proof"] or []],
        b64(v["root1"]),
        b64(v["root2"]),
    )
    if v["wantErr"]:
        with pytest.raises(InvalidDataError):
            verify_consistency(*args)
    else:
        assert verify_consistency(*args) is None


def test_vector_counts() -> None:
    assert len(merkle_params("inclusion")) == 98
    assert len(merkle_params("consistency")) == 98


# --- error messages ------------------------------------------------------------------------


def test_error_prefixes() -> None:
    with pytest.raises(ProofError, match=r"^inclusion proof failed: index 3 is not below size 3"):
        verify_inclusion(LEAVES[0], 3, 3, [], EMPTY_ROOT)
    with pytest.raises(MalformedError, match=r"^malformed hash: leaf hash must be 32 bytes, got 3"):
        verify_inclusion(b"abc", 0, 1, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match=r"^inclusion proof failed: computed root"):
        verify_inclusion(LEAVES[0], 0, 1, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match=r"^consistency proof failed: a proof from the empty"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError, match=r"^consistency proof failed: size2 1 < size1 2"):
        verify_consistency(2, 1, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(MalformedError, match=r"^malformed proof request: index 5 not in \[0, 5\)"):
        inclusion_proof(LEAVES[:5], 5)
    with pytest.raises(MalformedError, match=r"^malformed compact range: size 3 needs 2 hashes"):
        CompactRange(3, [LEAVES[0]])


# --- plans versus the list-based reference -------------------------------------------------


def test_plans_match_list_proofs_exhaustively() -> None:
    for n in range(1, 71):
        leaves = LEAVES[:n]
        assert fold_range([NODES[x] for x in range_nodes(0, n)]) == merkle.root(leaves)
        for i in range(n):
            assert run_plan(inclusion_proof_plan(i, n), n) == inclusion_proof(leaves, i)
        for m in range(0, n + 1):
            assert run_plan(consistency_proof_plan(m, n), n) == consistency_proof(leaves, m)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_plans_match_list_proofs_large(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, MAX_N))
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(0, n))
    leaves = LEAVES[:n]
    assert run_plan(inclusion_proof_plan(i, n), n) == inclusion_proof(leaves, i)
    assert run_plan(consistency_proof_plan(m, n), n) == consistency_proof(leaves, m)
    assert len(range_nodes(0, n)) == n.bit_count()
    assert sum(len(g) for g in inclusion_proof_plan(i, n)) <= 2 * n.bit_length() ** 2


@given(st.integers(0, 5000), st.integers(0, 5000))
def test_range_nodes_cover_exactly(a: int, b: int) -> None:
    start, end = min(a, b), max(a, b)
    nodes = range_nodes(start, end)
    covered = [merkle.node_range(n) for n in nodes]
    assert all(lo == hi_prev for (lo, _), (_, hi_prev) in zip(covered[1:], covered, strict=False))
    if nodes:
        assert covered[0][0] == start and covered[-1][1] == end
    assert len(nodes) <= 2 * max(1, (end - start).bit_length())


# --- CompactRange --------------------------------------------------------------------------


def test_compact_range_forms_every_node_once() -> None:
    n = 600
    cr = CompactRange(0, [])
    assert cr.root() == EMPTY_ROOT
    formed: dict[tuple[int, int], bytes] = {}
    for k in range(n):
        new = cr.append(LEAVES[k])
        assert new[0] == ((0, k), LEAVES[k])
        assert [node[0] for node, _ in new] == list(range(len(new)))  # bottom-up
        for node, h in new:
            assert node not in formed
            formed[node] = h
        assert cr.size == k + 1
        assert cr.root() == merkle.root(LEAVES[: k + 1])
        assert cr.hashes() == [NODES[x] for x in range_nodes(0, k + 1)]
    expected = {node: h for node, h in NODES.items() if (node[1] + 1) << node[0] <= n}
    assert formed == expected


def test_compact_range_resumes_from_stored_edge() -> None:
    size = 77
    cr = CompactRange(size, [NODES[x] for x in range_nodes(0, size)])
    cr.append(LEAVES[size])
    assert cr.root() == merkle.root(LEAVES[: size + 1])


# --- properties: good proofs verify, any change breaks them --------------------------------


def flip(data: bytes, bit: int) -> bytes:
    b = bytearray(data)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_inclusion_property(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 300))
    i = data.draw(st.integers(0, n - 1))
    leaves = LEAVES[:n]
    r = merkle.root(leaves)
    proof = inclusion_proof(leaves, i)
    verify_inclusion(leaves[i], i, n, proof, r)
    bit = data.draw(st.integers(0, 255))
    for k in range(len(proof)):
        bad = list(proof)
        bad[k] = flip(bad[k], bit)
        with pytest.raises(ProofError):
            verify_inclusion(leaves[i], i, n, bad, r)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[i], i, n, proof, flip(r, bit))
    with pytest.raises(ProofError):
        verify_inclusion(flip(leaves[i], bit), i, n, proof, r)
    j = data.draw(st.integers(0, n))
    if j != i:
        with pytest.raises(ProofError):
            verify_inclusion(leaves[i], j, n, proof, r)
    n2 = data.draw(st.integers(i + 1, 301))
    if n2 != n and inclusion_proof(LEAVES[:n2], i) != proof:
        with pytest.raises(ProofError):
            verify_inclusion(leaves[i], i, n2, proof, merkle.root(LEAVES[:n2]))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_consistency_property(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 300))
    m = data.draw(st.integers(1, n - 1))
    r1, r2 = merkle.root(LEAVES[:m]), merkle.root(LEAVES[:n])
    proof = consistency_proof(LEAVES[:n], m)
    verify_consistency(m, n, proof, r1, r2)
    bit = data.draw(st.integers(0, 255))
    for k in range(len(proof)):
        bad = list(proof)
        bad[k] = flip(bad[k], bit)
        with pytest.raises(ProofError):
            verify_consistency(m, n, bad, r1, r2)
    with pytest.raises(ProofError):
        verify_consistency(m, n, proof, flip(r1, bit), r2)
    with pytest.raises(ProofError):
        verify_consistency(m, n, proof, r1, flip(r2, bit))
    m2 = data.draw(st.integers(1, n))
    if m2 != m and consistency_proof(LEAVES[:n], m2) != proof:
        with pytest.raises(ProofError):
            verify_consistency(m2, n, proof, merkle.root(LEAVES[:m2]), r2)
    n2 = data.draw(st.integers(m + 1, 301))
    if n2 != n and consistency_proof(LEAVES[:n2], m) != proof:
        with pytest.raises(ProofError):
            verify_consistency(m, n2, proof, r1, merkle.root(LEAVES[:n2]))


def test_empty_root_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT == merkle.root([]) == fold_range([])
