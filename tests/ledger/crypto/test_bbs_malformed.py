"""Malformed BBS input is rejected with BBSFormatError (never False, never True), on both
backends, with a message that says what was expected and what was found."""

from __future__ import annotations

import pytest
from py_ecc.bls.point_compression import modular_squareroot_in_FQ2
from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2
from py_ecc.optimized_bls12_381 import b2

from ledger.crypto import bbs
from ledger.crypto.bbs._hashing import FIELD_MODULUS, SCALAR_ORDER
from ledger.errors import MalformedError

BACKENDS = bbs.available_backends()
SUITE = bbs.SHA256
HEADER = b"header"
PH = b"presentation"
MESSAGES = [b"a", b"", b"c", b"d"]
DISCLOSED = [0, 2]

G1_IDENTITY = bytes([0xC0]) + bytes(47)
G2_IDENTITY = bytes([0xC0]) + bytes(95)


def _g1_x(x: int, flags: int = 0x80) -> bytes:
    raw = bytearray(x.to_bytes(48, "big"))
    raw[0] |= flags
    return bytes(raw)


def _g1_on_curve(x: int) -> bool:
    rhs = (x**3 + 4) % FIELD_MODULUS
    return pow(rhs, (FIELD_MODULUS - 1) // 2, FIELD_MODULUS) == 1


# On the curve but outside the order-r subgroup, and not on the curve at all.
G1_NOT_IN_SUBGROUP = _g1_x(next(x for x in range(1, 100) if _g1_on_curve(x)))
G1_NOT_ON_CURVE = _g1_x(next(x for x in range(1, 100) if not _g1_on_curve(x)))
G1_X_TOO_BIG = _g1_x(FIELD_MODULUS)
G1_UNCOMPRESSED_FLAG = G1_NOT_IN_SUBGROUP[:1].replace(b"\x80", b"\x00") + G1_NOT_IN_SUBGROUP[1:]
G1_BAD_IDENTITY = bytes([0xC0]) + bytes(46) + b"\x01"


def _g2_x(k: int) -> bytes:
    """Compressed G2 encoding with x = k (real part), imaginary part 0."""
    return bytes([0x80]) + bytes(47) + k.to_bytes(48, "big")


def _g2_on_curve(k: int) -> bool:
    x = FQ2([k, 0])
    return modular_squareroot_in_FQ2(x**3 + b2) is not None


G2_NOT_IN_SUBGROUP = _g2_x(next(k for k in range(1, 100) if _g2_on_curve(k)))
G2_NOT_ON_CURVE = _g2_x(next(k for k in range(1, 100) if not _g2_on_curve(k)))

BAD_G1 = {
    "identity": (G1_IDENTITY, "identity"),
    "not-on-curve": (G1_NOT_ON_CURVE, "not on the curve"),
    "not-in-subgroup": (G1_NOT_IN_SUBGROUP, "not in the prime-order subgroup"),
    "x-not-below-p": (G1_X_TOO_BIG, "not below the field modulus"),
    "uncompressed-flag": (G1_UNCOMPRESSED_FLAG, "compressed form"),
    "non-canonical-identity": (G1_BAD_IDENTITY, "non-canonical"),
}


@pytest.fixture(scope="module")
def material() -> dict[str, object]:
    sk = bbs.keygen(b"k" * 32, ciphersuite=SUITE)
    pk = bbs.sk_to_pk(sk, SUITE)
    sig = bbs.sign(sk, pk, HEADER, MESSAGES, SUITE)
    proof = bbs.proof_gen(pk, sig, HEADER, PH, MESSAGES, DISCLOSED, SUITE)
    return {"sk": sk, "pk": pk, "sig": sig, "proof": proof}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _proof_verify(m: dict, backend: str, proof: bytes | None = None, **kw: object) -> bool:
    args = {
        "pk": m["pk"],
        "proof": m["proof"] if proof is None else proof,
        "header": HEADER,
        "presentation_header": PH,
        "disclosed_messages": [MESSAGES[i] for i in DISCLOSED],
        "disclosed_indexes": DISCLOSED,
    }
    args.update(kw)
    return bbs.proof_verify(**args, ciphersuite=SUITE, backend=backend)


def test_error_hierarchy() -> None:
    assert issubclass(bbs.BBSFormatError, MalformedError)
    assert issubclass(bbs.BBSFormatError, ValueError)


def test_valid_material_verifies(material: dict, backend: str) -> None:
    assert bbs.verify(material["pk"], material["sig"], HEADER, MESSAGES, SUITE, backend=backend)
    assert _proof_verify(material, backend)


# -- proofs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 100, 271, 273, 272 + 32 * 2 + 1, 272 + 32 * 2 - 1])
def test_proof_wrong_length(material: dict, backend: str, length: int) -> None:
    proof = (material["proof"] * 2)[:length]
    with pytest.raises(bbs.BBSFormatError) as err:
        _proof_verify(material, backend, proof=proof)
    assert str(err.value) == f"malformed proof: expected 272 + 32*U bytes, got {length}"


@pytest.mark.parametrize("slot", [0, 1, 2], ids=["A_bar", "B_bar", "D"])
@pytest.mark.parametrize("bad", list(BAD_G1), ids=list(BAD_G1))
def test_proof_bad_point(material: dict, backend: str, slot: int, bad: str) -> None:
    encoding, reason = BAD_G1[bad]
    proof = bytearray(material["proof"])
    proof[48 * slot : 48 * (slot + 1)] = encoding
    with pytest.raises(bbs.BBSFormatError, match=reason):
        _proof_verify(material, backend, proof=bytes(proof))


@pytest.mark.parametrize("value", [0, SCALAR_ORDER, 2**256 - 1], ids=["zero", "r", "max"])
@pytest.mark.parametrize("slot", [0, 1, 2, 3, 4, 5], ids=lambda s: f"scalar{s}")
def test_proof_bad_scalar(material: dict, backend: str, slot: int, value: int) -> None:
    proof = bytearray(material["proof"])
    offset = 144 + 32 * slot
    proof[offset : offset + 32] = value.to_bytes(32, "big")
    with pytest.raises(bbs.BBSFormatError, match=r"non-zero|below r"):
        _proof_verify(material, backend, proof=bytes(proof))


@pytest.mark.parametrize(
    ("indexes", "reason"),
    [
        ([2, 0], "unsorted"),
        ([0, 0], "repeated"),
        ([0, 4], r"expected indexes in 0\.\.3, got 4"),
        ([-1, 0], "got -1"),
        ([0, True], "expected int"),
        ([0, "2"], "expected int"),
    ],
)
def test_proof_verify_bad_indexes(material: dict, backend: str, indexes: list, reason: str) -> None:
    with pytest.raises(bbs.BBSFormatError, match=reason):
        _proof_verify(material, backend, disclosed_indexes=indexes)


def test_proof_verify_message_count_mismatch(material: dict, backend: str) -> None:
    with pytest.raises(bbs.BBSFormatError, match=r"expected one per disclosed index \(2\), got 1"):
        _proof_verify(material, backend, disclosed_messages=[MESSAGES[0]])


@pytest.mark.parametrize(
    ("indexes", "reason"),
    [([1, 0], "unsorted"), ([1, 1], "repeated"), ([4], "got 4"), ([-1], "got -1")],
)
def test_proof_gen_bad_indexes(material: dict, backend: str, indexes: list, reason: str) -> None:
    with pytest.raises(bbs.BBSFormatError, match=reason):
        bbs.proof_gen(
            material["pk"], material["sig"], HEADER, PH, MESSAGES, indexes, SUITE, backend=backend
        )


def test_proof_gen_rejects_bad_signature(material: dict, backend: str) -> None:
    with pytest.raises(bbs.BBSFormatError, match="expected 80 bytes, got 79"):
        bbs.proof_gen(
            material["pk"], material["sig"][:79], HEADER, PH, MESSAGES, [], SUITE, backend=backend
        )


# -- public keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pk", "reason"),
    [
        (G2_IDENTITY, "identity"),
        (G2_NOT_ON_CURVE, "not on the curve"),
        (G2_NOT_IN_SUBGROUP, "not in the prime-order subgroup"),
        (bytes(96), "compressed form"),
        (b"\x80" * 95, "expected 96 bytes, got 95"),
    ],
    ids=["identity", "not-on-curve", "not-in-subgroup", "flags", "short"],
)
def test_bad_public_key(material: dict, backend: str, pk: bytes, reason: str) -> None:
    with pytest.raises(bbs.BBSFormatError, match=reason):
        bbs.verify(pk, material["sig"], HEADER, MESSAGES, SUITE, backend=backend)
    with pytest.raises(bbs.BBSFormatError, match=reason):
        _proof_verify(material, backend, pk=pk)


# -- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", list(BAD_G1), ids=list(BAD_G1))
def test_signature_bad_point(material: dict, backend: str, bad: str) -> None:
    encoding, reason = BAD_G1[bad]
    sig = encoding + material["sig"][48:]
    with pytest.raises(bbs.BBSFormatError, match=reason):
        bbs.verify(material["pk"], sig, HEADER, MESSAGES, SUITE, backend=backend)


@pytest.mark.parametrize("value", [0, SCALAR_ORDER, 2**256 - 1], ids=["zero", "r", "max"])
def test_signature_bad_e(material: dict, backend: str, value: int) -> None:
    sig = material["sig"][:48] + value.to_bytes(32, "big")
    with pytest.raises(bbs.BBSFormatError, match=r"non-zero|below r"):
        bbs.verify(material["pk"], sig, HEADER, MESSAGES, SUITE, backend=backend)


@pytest.mark.parametrize("length", [0, 79, 81])
def test_signature_wrong_length(material: dict, backend: str, length: int) -> None:
    sig = (material["sig"] * 2)[:length]
    with pytest.raises(bbs.BBSFormatError, match=f"expected 80 bytes, got {length}"):
        bbs.verify(material["pk"], sig, HEADER, MESSAGES, SUITE, backend=backend)


# -- keys and other arguments -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sk", "reason"),
    [
        (bytes(32), "non-zero"),
        (SCALAR_ORDER.to_bytes(32, "big"), "below r"),
        (b"\x01" * 31, "expected 32 bytes, got 31"),
    ],
    ids=["zero", "r", "short"],
)
def test_bad_secret_key(material: dict, backend: str, sk: bytes, reason: str) -> None:
    with pytest.raises(bbs.BBSFormatError, match=reason):
        bbs.sk_to_pk(sk, SUITE, backend=backend)
    with pytest.raises(bbs.BBSFormatError, match=reason):
        bbs.sign(sk, material["pk"], HEADER, MESSAGES, SUITE, backend=backend)


def test_keygen_rejects_short_material_and_long_info() -> None:
    with pytest.raises(bbs.BBSFormatError, match="expected at least 32 bytes, got 31"):
        bbs.keygen(b"x" * 31)
    with pytest.raises(bbs.BBSFormatError, match="expected at most 65535 bytes, got 65536"):
        bbs.keygen(b"x" * 32, b"i" * 65536)


def test_unknown_ciphersuite_and_backend(material: dict) -> None:
    with pytest.raises(bbs.BBSFormatError, match="unknown ciphersuite"):
        bbs.verify(material["pk"], material["sig"], HEADER, MESSAGES, "BLS12-381-MD5")
    with pytest.raises(bbs.BBSFormatError, match="unknown BBS backend"):
        bbs.verify(material["pk"], material["sig"], HEADER, MESSAGES, SUITE, backend="gpu")


def test_non_bytes_arguments(material: dict) -> None:
    with pytest.raises(bbs.BBSFormatError, match="expected bytes, got str"):
        bbs.verify(material["pk"], material["sig"], "header", MESSAGES, SUITE)  # type: ignore[arg-type]
    with pytest.raises(bbs.BBSFormatError, match="single value"):
        bbs.verify(material["pk"], material["sig"], HEADER, b"abc", SUITE)
