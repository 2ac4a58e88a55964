"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification, as pure functions.

Two families live here:

* list-based functions (:func:`root`, :func:`inclusion_proof`, :func:`consistency_proof`) that
  take every leaf hash, written straight from the RFC's recursive definitions. They are the
  reference the rest is tested against, and are fine for small trees;
* stored-tree functions for a store that keeps every *complete* subtree hash as a row
  ``(level, index)`` = MTH(D[index·2^level : (index+1)·2^level]). :func:`range_nodes` names
  the O(log n) stored nodes that cover any range, :func:`fold_range` combines them into that
  range's RFC 9162 hash, and the ``*_plan`` functions list, per proof element, which stored
  nodes to read and fold. :class:`CompactRange` tracks the right edge of a growing tree so an
  append needs no reads at all.

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), with the edge
cases of transparency-dev/merkle ``proof/verify.go`` (whose test vectors we run):

* a leaf hash, root or proof element that is not 32 bytes raises :class:`MalformedError`;
* ``size1 == 0`` is always rejected: a consistency proof from the empty tree proves nothing.
  (C2SP tlog-witness accepts ``old 0`` with an empty proof; a witness endpoint must handle that
  case itself before calling :func:`verify_consistency`.)
* ``size1 == size2`` needs an empty proof and byte-equal roots (not length-checked, as upstream).

Everything that fails raises :class:`ProofError` (a :class:`VerificationError`) or
:class:`MalformedError`; both are :class:`InvalidDataError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ledger.errors import MalformedError, VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "NodeId",
    "ProofError",
    "consistency_proof",
    "consistency_proof_plan",
    "fold_range",
    "inclusion_proof",
    "inclusion_proof_plan",
    "leaf_hash",
    "node_hash",
    "node_range",
    "range_nodes",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""A stored node ``(level, index)``: the root of leaves [index·2^level, (index+1)·2^level)."""


class ProofError(VerificationError):
    """A well-formed inclusion or consistency proof that does not verify."""


# --- hashing -------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash ``SHA-256(0x00 || data)`` (0x00 keeps leaves apart from nodes)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2): RFC 9162's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) from leaf hashes, by the RFC's recursive definition (hi > lo)."""
    n = hi - lo
    if n == 1:
        return hashes[lo]
    k = _split(n)
    return node_hash(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a tree given all its leaf hashes; the empty tree's is SHA-256("")."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The RFC 9162 §2.1.3.1 audit path PATH(index, D[0:n]), bottom-up."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise MalformedError(f"malformed proof request: index {index} not in [0, {n})")
    path: list[bytes] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_mth(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaf_hashes, lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The RFC 9162 §2.1.4.1 proof PROOF(old_size, D[0:n]); empty when old_size is 0 or n."""
    n = len(leaf_hashes)
    if not 0 <= old_size <= n:
        raise MalformedError(f"malformed proof request: old size {old_size} not in [0, {n}]")
    if old_size in (0, n):
        return []
    return _subproof(leaf_hashes, old_size, 0, n, True)


def _subproof(hashes: Sequence[bytes], m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1."""
    n = hi - lo
    if m == n:
        return [] if complete else [_mth(hashes, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(hashes, m, lo, lo + k, complete), _mth(hashes, lo + k, hi)]
    return [*_subproof(hashes, m - k, lo + k, hi, False), _mth(hashes, lo, lo + k)]


# --- verification --------------------------------------------------------------------------


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise MalformedError(f"malformed hash: {what} must be {HASH_SIZE} bytes, got {len(value)}")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    RFC 9162 §2.1.3.2. Returns None on success; raises :class:`ProofError` if the proof does
    not verify and :class:`MalformedError` for wrong-length hashes.
    """
    if index < 0 or tree_size < 0:
        raise MalformedError(f"malformed proof: negative index {index} or size {tree_size}")
    if index >= tree_size:
        raise ProofError(f"inclusion proof failed: index {index} is not below size {tree_size}")
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof failed: too many elements ({len(proof)})")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof failed: too few elements ({len(proof)})")
    if r != root:
        raise ProofError("inclusion proof failed: computed root does not match the expected root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree (size1, root1) is a prefix of the tree (size2, root2).

    RFC 9162 §2.1.4.2, with transparency-dev's edge cases (see the module docstring):
    ``size1 == 0`` is rejected, ``size1 == size2`` needs an empty proof and equal roots.
    Returns None on success; raises :class:`ProofError` or :class:`MalformedError`.
    """
    if size1 < 0 or size2 < 0:
        raise MalformedError(f"malformed proof: negative size {size1} or {size2}")
    if size2 < size1:
        raise ProofError(f"consistency proof failed: size2 {size2} < size1 {size1}")
    if size1 == 0:
        raise ProofError("consistency proof failed: a proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError(
                f"consistency proof failed: equal sizes need an empty proof, got {len(proof)}"
            )
        if root1 != root2:
            raise ProofError("consistency proof failed: equal sizes but different roots")
        return
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
    if not proof:
        raise ProofError("consistency proof failed: empty proof for different sizes")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is a node of tree 2
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof failed: too many elements ({len(proof)})")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof failed: too few elements ({len(proof)})")
    if fr != root1:
        raise ProofError("consistency proof failed: computed root1 does not match")
    if sr != root2:
        raise ProofError("consistency proof failed: computed root2 does not match")


# --- stored-tree support -------------------------------------------------------------------


def node_range(node: NodeId) -> tuple[int, int]:
    """The leaf range [start, end) a stored node covers."""
    level, index = node
    return index << level, (index + 1) << level


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The maximal aligned complete subtrees covering leaves [start, end), left to right.

    Each node is as large as alignment and the range allow, so there are O(log(end-start)).
    For a range starting at 0 this is the right edge of the tree of size ``end``.
    """
    if not 0 <= start <= end:
        raise MalformedError(f"malformed range: [{start}, {end})")
    nodes: list[NodeId] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of :func:`range_nodes` into the range's RFC 9162 hash.

    Folds from the right (``H(a, H(b, c))``), which is how RFC 9162 splits a range whose start is
    aligned to a power of two at least its length: every range a proof or root uses. The empty
    range gives :data:`EMPTY_ROOT`, so ``fold_range(hashes of range_nodes(0, n))`` is always the
    root of the tree of size n.
    """
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_proof_plan(index: int, size: int) -> list[list[NodeId]]:
    """For each inclusion-proof element (bottom-up), the stored nodes whose fold gives it."""
    if not 0 <= index < size:
        raise MalformedError(f"malformed proof request: index {index} not in [0, {size})")
    plan: list[list[NodeId]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            plan.append(range_nodes(lo + k, hi))
            hi = lo + k
        else:
            plan.append(range_nodes(lo, lo + k))
            lo = lo + k
    plan.reverse()
    return plan


def consistency_proof_plan(old_size: int, size: int) -> list[list[NodeId]]:
    """For each consistency-proof element, the stored nodes whose fold gives it.

    Empty when ``old_size`` is 0 or ``size`` (matching :func:`consistency_proof`).
    """
    if not 0 <= old_size <= size:
        raise MalformedError(f"malformed proof request: old size {old_size} not in [0, {size}]")
    if old_size in (0, size):
        return []
    plan: list[list[NodeId]] = []
    lo, hi, m, complete = 0, size, old_size, True
    # SUBPROOF unrolled: each step appends one element after the recursive part, so collect the
    # elements top-down and reverse at the end.
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            plan.append(range_nodes(lo + k, hi))
            hi = lo + k
        else:
            plan.append(range_nodes(lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        plan.append(range_nodes(lo, hi))
    plan.reverse()
    return plan


class CompactRange:
    """The right edge of a tree of size n: the hashes of ``range_nodes(0, n)``, left to right.

    Enough to compute the root and to append leaves without reading anything else; each append
    reports the complete nodes it forms so the store can save them.
    """

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int, hashes: Sequence[bytes]) -> None:
        if size < 0:
            raise MalformedError(f"malformed compact range: negative size {size}")
        want = size.bit_count()
        if len(hashes) != want:
            raise MalformedError(
                f"malformed compact range: size {size} needs {want} hashes, got {len(hashes)}"
            )
        for i, h in enumerate(hashes):
            _check_hash(f"compact range hash {i}", h)
        self.size = size
        self._hashes = list(hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf; return every complete node newly formed, bottom-up, the leaf first."""
        _check_hash("leaf hash", leaf_hash)
        index = self.size
        formed: list[tuple[NodeId, bytes]] = [((0, index), leaf_hash)]
        h = leaf_hash
        level = 0
        # Each trailing one bit of the old size is a complete sibling on the edge to merge with.
        while (index >> level) & 1:
            h = node_hash(self._hashes.pop(), h)
            level += 1
            formed.append(((level, index >> level), h))
        self._hashes.append(h)
        self.size += 1
        return formed

    def root(self) -> bytes:
        """The root of the tree of this size."""
        return fold_range(self._hashes)

    def hashes(self) -> list[bytes]:
        """The edge hashes, left to right (a copy), matching ``range_nodes(0, size)``."""
        return list(self._hashes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self.size})"
