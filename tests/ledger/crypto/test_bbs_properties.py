"""Property tests of BBS: completeness, cross-backend agreement, soundness against tampering
and unlinkability of proof bytes. Reference-backend properties use few examples (it is slow)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.crypto import bbs
from ledger.crypto.bbs import _backends, _scheme
from ledger.crypto.bbs._hashing import SCALAR_ORDER

pytestmark = pytest.mark.skipif(
    bbs.FAST not in bbs.available_backends(), reason="the fast backend is not installed"
)

SUITES = (bbs.SHA256, bbs.SHAKE256)
FAST_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
REFERENCE_SETTINGS = settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_KEYS: dict[str, tuple[bytes, bytes]] = {}


def keypair(suite: str) -> tuple[bytes, bytes]:
    if suite not in _KEYS:
        sk = bbs.keygen(hashlib.sha256(suite.encode()).digest() * 2, b"tests", ciphersuite=suite)
        _KEYS[suite] = (sk, bbs.sk_to_pk(sk, suite, backend=bbs.FAST))
    return _KEYS[suite]


@st.composite
def presentations(draw: st.DrawFn, max_messages: int = 20) -> dict:
    """A suite, messages (some possibly empty), disclosed indexes, header and presentation
    header."""
    messages = draw(st.lists(st.binary(max_size=40), max_size=max_messages))
    disclosed = sorted(draw(st.sets(st.integers(0, max(len(messages) - 1, 0)))))
    disclosed = [i for i in disclosed if i < len(messages)]
    return {
        "suite": draw(st.sampled_from(SUITES)),
        "messages": messages,
        "disclosed": disclosed,
        "header": draw(st.binary(max_size=32)),
        "ph": draw(st.binary(max_size=32)),
    }


def _make(p: dict, backend: str) -> tuple[bytes, bytes, bytes]:
    sk, pk = keypair(p["suite"])
    sig = bbs.sign(sk, pk, p["header"], p["messages"], p["suite"], backend=backend)
    proof = bbs.proof_gen(
        pk, sig, p["header"], p["ph"], p["messages"], p["disclosed"], p["suite"], backend=backend
    )
    return pk, sig, proof


def _verify(p: dict, pk: bytes, proof: bytes, backend: str, **changes: object) -> bool:
    q = {**p, **changes}
    disclosed_messages = q.get("disclosed_messages", [p["messages"][i] for i in p["disclosed"]])
    return bbs.proof_verify(
        pk,
        proof,
        q["header"],
        q["ph"],
        disclosed_messages,
        p["disclosed"],
        p["suite"],
        backend=backend,
    )


def _never_true(call: Callable[[], bool]) -> None:
    """The call returns False or raises BBSFormatError; it never returns True."""
    with contextlib.suppress(bbs.BBSFormatError):
        assert call() is False


@FAST_SETTINGS
@given(presentations())
def test_fresh_proof_verifies_fast(p: dict) -> None:
    pk, sig, proof = _make(p, bbs.FAST)
    assert bbs.verify(pk, sig, p["header"], p["messages"], p["suite"], backend=bbs.FAST)
    assert len(proof) == 272 + 32 * (len(p["messages"]) - len(p["disclosed"]))
    assert _verify(p, pk, proof, bbs.FAST)


@REFERENCE_SETTINGS
@given(presentations(), st.booleans())
def test_proofs_cross_verify_between_backends(p: dict, made_by_fast: bool) -> None:
    maker, checker = (bbs.FAST, bbs.REFERENCE) if made_by_fast else (bbs.REFERENCE, bbs.FAST)
    pk, sig, proof = _make(p, maker)
    sk, _ = keypair(p["suite"])
    # Signing is deterministic: both backends give the same bytes.
    assert bbs.sign(sk, pk, p["header"], p["messages"], p["suite"], backend=checker) == sig
    assert _verify(p, pk, proof, checker)
    assert _verify(p, pk, proof, maker)


@REFERENCE_SETTINGS
@given(presentations(max_messages=6))
def test_fresh_proof_verifies_reference(p: dict) -> None:
    pk, sig, proof = _make(p, bbs.REFERENCE)
    assert bbs.verify(pk, sig, p["header"], p["messages"], p["suite"], backend=bbs.REFERENCE)
    assert _verify(p, pk, proof, bbs.REFERENCE)


@FAST_SETTINGS
@given(presentations(), st.data())
def test_flipping_any_proof_byte_fails(p: dict, data: st.DataObject) -> None:
    pk, _, proof = _make(p, bbs.FAST)
    pos = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 7))
    bad = bytearray(proof)
    bad[pos] ^= 1 << bit
    _never_true(lambda: _verify(p, pk, bytes(bad), bbs.FAST))


@FAST_SETTINGS
@given(presentations(), st.data())
def test_changing_a_disclosed_message_fails(p: dict, data: st.DataObject) -> None:
    pk, _, proof = _make(p, bbs.FAST)
    disclosed = [p["messages"][i] for i in p["disclosed"]]
    if not disclosed:
        return
    k = data.draw(st.integers(0, len(disclosed) - 1))
    msg = disclosed[k]
    if msg:
        pos = data.draw(st.integers(0, len(msg) - 1))
        changed = bytearray(msg)
        changed[pos] ^= 1 << data.draw(st.integers(0, 7))
        new = bytes(changed)
    else:
        new = b"\x00"
    disclosed[k] = new
    _never_true(lambda: _verify(p, pk, proof, bbs.FAST, disclosed_messages=disclosed))


@FAST_SETTINGS
@given(presentations(), st.sampled_from(["header", "ph"]), st.data())
def test_changing_header_or_presentation_header_fails(
    p: dict, field: str, data: st.DataObject
) -> None:
    pk, _, proof = _make(p, bbs.FAST)
    value = p[field]
    if value:
        pos = data.draw(st.integers(0, len(value) - 1))
        changed = bytearray(value)
        changed[pos] ^= 1 << data.draw(st.integers(0, 7))
        new = bytes(changed)
    else:
        new = b"\x01"
    _never_true(lambda: _verify(p, pk, proof, bbs.FAST, **{field: new}))


@FAST_SETTINGS
@given(presentations())
def test_two_proofs_share_no_32_byte_window(p: dict) -> None:
    pk, sig, first = _make(p, bbs.FAST)
    second = bbs.proof_gen(
        pk,
        sig,
        p["header"],
        p["ph"],
        p["messages"],
        p["disclosed"],
        p["suite"],
        backend=bbs.FAST,
    )
    windows = {first[i : i + 32] for i in range(len(first) - 31)}
    assert not any(second[i : i + 32] in windows for i in range(len(second) - 31))


@REFERENCE_SETTINGS
@given(
    st.lists(st.integers(0, SCALAR_ORDER - 1), min_size=1, max_size=6),
    st.integers(1, 2**64),
)
def test_group_operations_agree_byte_for_byte(scalars: list[int], seed: int) -> None:
    fast, ref = _backends.get_backend(bbs.FAST), _backends.get_backend(bbs.REFERENCE)
    gens = _scheme.create_generators(len(scalars), bbs.SHA256, backend=bbs.FAST)
    points_f = [fast.g1_decode(g) for g in gens[: len(scalars)]]
    points_r = [ref.g1_decode(g) for g in gens[: len(scalars)]]
    msm_f = fast.g1_encode(fast.g1_msm(points_f, scalars))
    assert msm_f == ref.g1_encode(ref.g1_msm(points_r, scalars))
    assert fast.g1_encode(fast.g1_decode(msm_f)) == msm_f == ref.g1_encode(ref.g1_decode(msm_f))
    u = (seed * 7919, seed * 104729)
    assert fast.g1_encode(fast.g1_map_to_curve(*u)) == ref.g1_encode(ref.g1_map_to_curve(*u))
    k = scalars[0] or 1
    w_f, w_r = fast.g2_generator_mul(k), ref.g2_generator_mul(k)
    assert fast.g2_encode(w_f) == ref.g2_encode(w_r)
    # e(G1*k, BP2) * e(G1, -BP2*k) == 1, and not with k + 1.
    for be, pts, w in ((fast, points_f, w_f), (ref, points_r, w_r)):
        p0 = pts[0]
        pk_ = be.g1_msm([p0], [k])
        assert be.pairing_product_is_one([(pk_, be.g2_generator_neg()), (p0, w)])
        assert not be.pairing_product_is_one(
            [(be.g1_msm([p0], [(k + 1) % SCALAR_ORDER]), be.g2_generator_neg()), (p0, w)]
        )


def test_the_largest_scalar_agrees_on_both_backends() -> None:
    """r − 1 (found by hypothesis once: the test's own k + 1 overflowed to r)."""
    fast, ref = _backends.get_backend(bbs.FAST), _backends.get_backend(bbs.REFERENCE)
    gens = _scheme.create_generators(1, bbs.SHA256, backend=bbs.FAST)
    k = SCALAR_ORDER - 1
    assert fast.g1_encode(fast.g1_msm([fast.g1_decode(gens[0])], [k])) == ref.g1_encode(
        ref.g1_msm([ref.g1_decode(gens[0])], [k])
    )
