"""The BBS interface of draft-irtf-cfrg-bbs-signatures-09 (§3.4, §3.5 and the core operations
of §3.6), written once over the :class:`~._group.Backend` interface.

Scalars are Python ints modulo r; points are backend objects. Every public function takes the
ciphersuite by name and, optionally, the backend by name.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ._backends import default_backend, get_backend
from ._ciphersuites import SHA256, Ciphersuite, ciphersuite
from ._errors import BBSFormatError
from ._group import G1_LENGTH, G2_LENGTH, Backend
from ._hashing import EXPAND_LEN, SCALAR_ORDER, hash_to_field_fp, hash_to_scalar

__all__ = [
    "PROOF_BASE_LENGTH",
    "SCALAR_LENGTH",
    "SIGNATURE_LENGTH",
    "create_generators",
    "keygen",
    "messages_to_scalars",
    "proof_gen",
    "proof_verify",
    "sign",
    "sk_to_pk",
    "verify",
]

SCALAR_LENGTH = 32
SIGNATURE_LENGTH = G1_LENGTH + SCALAR_LENGTH
PROOF_BASE_LENGTH = 3 * G1_LENGTH + 4 * SCALAR_LENGTH
"""A proof is this many bytes plus 32 per undisclosed message."""

RandomScalars = Callable[[int], Sequence[int]]

_r = SCALAR_ORDER


# ---------------------------------------------------------------------------------------------
# Small encoders and input checks


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def _scalar_bytes(value: int) -> bytes:
    return value.to_bytes(SCALAR_LENGTH, "big")


def _as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise BBSFormatError(f"malformed {what}: expected bytes, got {type(value).__name__}")


def _as_messages(messages: Sequence[bytes], what: str) -> list[bytes]:
    if isinstance(messages, bytes | bytearray | memoryview | str):
        raise BBSFormatError(f"malformed {what}: expected a sequence of bytes, got a single value")
    return [_as_bytes(m, f"{what}[{i}]") for i, m in enumerate(messages)]


def _check_indexes(indexes: Sequence[int], count: int, what: str) -> list[int]:
    """Indexes must be ints, strictly ascending (so no repeats) and in range(count)."""
    if isinstance(indexes, bytes | bytearray | str):
        raise BBSFormatError(f"malformed {what}: expected a sequence of ints")
    out: list[int] = []
    for position, index in enumerate(indexes):
        if isinstance(index, bool) or not isinstance(index, int):
            raise BBSFormatError(
                f"malformed {what}: expected int at position {position}, got {type(index).__name__}"
            )
        if not 0 <= index < count:
            raise BBSFormatError(
                f"malformed {what}: expected indexes in 0..{count - 1}, got {index}"
            )
        if out and index <= out[-1]:
            kind = "repeated" if index == out[-1] else "unsorted"
            raise BBSFormatError(
                f"malformed {what}: expected strictly ascending indexes, got {kind} index "
                f"{index} after {out[-1]}"
            )
        out.append(index)
    return out


def _decode_g1(backend: Backend, data: bytes, what: str) -> Any:
    try:
        point = backend.g1_decode(data)
    except BBSFormatError as exc:
        raise BBSFormatError(f"malformed {what}: {exc}") from None
    if backend.g1_is_identity(point):
        raise BBSFormatError(f"malformed {what}: expected a non-identity point, got the identity")
    return point


def _decode_scalar(data: bytes, what: str) -> int:
    value = int.from_bytes(data, "big")
    if value == 0:
        raise BBSFormatError(f"malformed {what}: expected a non-zero scalar, got 0")
    if value >= _r:
        raise BBSFormatError(f"malformed {what}: expected a scalar below r, got a value >= r")
    return value


def _decode_sk(sk: bytes) -> int:
    sk = _as_bytes(sk, "secret key")
    if len(sk) != SCALAR_LENGTH:
        raise BBSFormatError(f"malformed secret key: expected {SCALAR_LENGTH} bytes, got {len(sk)}")
    return _decode_scalar(sk, "secret key")


def _decode_pk(backend: Backend, pk: bytes) -> Any:
    """octets_to_pubkey: a valid, non-identity G2 point (KeyValidate)."""
    if len(pk) != G2_LENGTH:
        raise BBSFormatError(f"malformed public key: expected {G2_LENGTH} bytes, got {len(pk)}")
    try:
        point = backend.g2_decode(pk)
    except BBSFormatError as exc:
        raise BBSFormatError(f"malformed public key: {exc}") from None
    if backend.g2_is_identity(point):
        raise BBSFormatError(
            "malformed public key: expected a non-identity point, got the identity"
        )
    return point


def _decode_signature(backend: Backend, signature: bytes) -> tuple[Any, int]:
    """octets_to_signature: A a non-identity G1 point, 0 < e < r."""
    signature = _as_bytes(signature, "signature")
    if len(signature) != SIGNATURE_LENGTH:
        raise BBSFormatError(
            f"malformed signature: expected {SIGNATURE_LENGTH} bytes, got {len(signature)}"
        )
    a = _decode_g1(backend, signature[:G1_LENGTH], "signature (A)")
    e = _decode_scalar(signature[G1_LENGTH:], "signature (e)")
    return a, e


def _decode_proof(backend: Backend, proof: bytes) -> tuple[list[Any], list[int]]:
    """octets_to_proof: three non-identity G1 points, then 4 + U scalars in 1..r-1."""
    proof = _as_bytes(proof, "proof")
    extra = len(proof) - PROOF_BASE_LENGTH
    if extra < 0 or extra % SCALAR_LENGTH:
        raise BBSFormatError(
            f"malformed proof: expected {PROOF_BASE_LENGTH} + {SCALAR_LENGTH}*U bytes, "
            f"got {len(proof)}"
        )
    names = ("A_bar", "B_bar", "D")
    points = [
        _decode_g1(backend, proof[i * G1_LENGTH : (i + 1) * G1_LENGTH], f"proof ({names[i]})")
        for i in range(3)
    ]
    offset = 3 * G1_LENGTH
    scalars = [
        _decode_scalar(proof[o : o + SCALAR_LENGTH], f"proof (scalar {j})")
        for j, o in enumerate(range(offset, len(proof), SCALAR_LENGTH))
    ]
    return points, scalars


# ---------------------------------------------------------------------------------------------
# Generators (draft §4.1.1), cached per ciphersuite, backend and seed


class _GeneratorStream:
    """create_generators as an extendable sequence: generator i depends only on i."""

    def __init__(self, suite: Ciphersuite, backend: Backend, seed: bytes) -> None:
        self._suite = suite
        self._backend = backend
        self._seed_dst = suite.api_id + b"SIG_GENERATOR_SEED_"
        self._generator_dst = suite.api_id + b"SIG_GENERATOR_DST_"
        self._v = suite.expand_message(seed, self._seed_dst, EXPAND_LEN)
        self._points: list[Any] = []
        self._encoded: list[bytes] = []
        self._lock = threading.Lock()

    def take(self, count: int) -> tuple[list[Any], list[bytes]]:
        with self._lock:
            while len(self._points) < count:
                i = len(self._points) + 1
                self._v = self._suite.expand_message(
                    self._v + _i2osp(i, 8), self._seed_dst, EXPAND_LEN
                )
                u0, u1 = hash_to_field_fp(self._v, self._generator_dst, self._suite.expand_message)
                point = self._backend.g1_map_to_curve(u0, u1)
                self._points.append(point)
                self._encoded.append(self._backend.g1_encode(point))
            return self._points[:count], self._encoded[:count]


_streams: dict[tuple[str, str, bytes], _GeneratorStream] = {}
_streams_lock = threading.Lock()


def _stream(suite: Ciphersuite, backend: Backend, seed: bytes) -> _GeneratorStream:
    key = (suite.name, backend.name, seed)
    with _streams_lock:
        stream = _streams.get(key)
        if stream is None:
            stream = _streams[key] = _GeneratorStream(suite, backend, seed)
        return stream


class _Generators:
    """P1, Q1 and H_1..H_L with their encodings."""

    def __init__(self, suite: Ciphersuite, backend: Backend, count: int) -> None:
        # P1 comes from its own seed but the same DSTs (draft §7: "BP_MESSAGE_GENERATOR_SEED").
        base, _ = _stream(suite, backend, suite.base_point_seed).take(1)
        points, encoded = _stream(suite, backend, suite.api_id + b"MESSAGE_GENERATOR_SEED").take(
            count + 1
        )
        self.p1 = base[0]
        self.q1 = points[0]
        self.q1_bytes = encoded[0]
        self.h = points[1:]
        self.h_bytes = encoded[1:]


# ---------------------------------------------------------------------------------------------
# Shared sub-procedures


def _resolve_suite(name: str) -> Ciphersuite:
    return ciphersuite(name)


def _resolve(ciphersuite_name: str, backend: str | None) -> tuple[Ciphersuite, Backend]:
    suite = ciphersuite(ciphersuite_name)
    return suite, (default_backend() if backend is None else get_backend(backend))


def _messages_to_scalars(suite: Ciphersuite, messages: Sequence[bytes]) -> list[int]:
    dst = suite.api_id + b"MAP_MSG_TO_SCALAR_AS_HASH_"
    return [hash_to_scalar(m, dst, suite.expand_message) for m in messages]


def _domain(suite: Ciphersuite, pk: bytes, gens: _Generators, header: bytes) -> int:
    """calculate_domain (draft §4.2.3): binds PK, the generators, api_id and the header."""
    dom_octs = b"".join([_i2osp(len(gens.h), 8), gens.q1_bytes, *gens.h_bytes, suite.api_id])
    dom_input = pk + dom_octs + _i2osp(len(header), 8) + header
    return hash_to_scalar(dom_input, suite.api_id + b"H2S_", suite.expand_message)


def _challenge(
    suite: Ciphersuite,
    encoded_points: Sequence[bytes],
    domain: int,
    disclosed_indexes: Sequence[int],
    disclosed_scalars: Sequence[int],
    presentation_header: bytes,
) -> int:
    """ProofChallengeCalculate (draft §4.2.4)."""
    parts = [_i2osp(len(disclosed_indexes), 8)]
    for index, scalar in zip(disclosed_indexes, disclosed_scalars, strict=True):
        parts.append(_i2osp(index, 8))
        parts.append(_scalar_bytes(scalar))
    parts.extend(encoded_points)
    parts.append(_scalar_bytes(domain))
    parts.append(_i2osp(len(presentation_header), 8))
    parts.append(presentation_header)
    return hash_to_scalar(b"".join(parts), suite.api_id + b"H2S_", suite.expand_message)


def _system_random_scalars(count: int) -> list[int]:
    """calculate_random_scalars (draft §4.2.2) from the operating system's CSPRNG."""
    return [int.from_bytes(secrets.token_bytes(EXPAND_LEN), "big") % _r for _ in range(count)]


# ---------------------------------------------------------------------------------------------
# Public interface


def keygen(
    key_material: bytes,
    key_info: bytes = b"",
    key_dst: bytes | None = None,
    ciphersuite: str = SHA256,
) -> bytes:
    """KeyGen (draft §3.4.1): a 32-byte secret key derived from at least 32 bytes of secret,
    uniformly random key material. Deterministic, so the same material gives the same key."""
    suite = _resolve_suite(ciphersuite)
    key_material = _as_bytes(key_material, "key material")
    key_info = _as_bytes(key_info, "key info")
    if len(key_material) < 32:
        raise BBSFormatError(
            f"malformed key material: expected at least 32 bytes, got {len(key_material)}"
        )
    if len(key_info) > 65535:
        raise BBSFormatError(
            f"malformed key info: expected at most 65535 bytes, got {len(key_info)}"
        )
    dst = suite.api_id + b"KEYGEN_DST_" if key_dst is None else _as_bytes(key_dst, "key dst")
    derive_input = key_material + _i2osp(len(key_info), 2) + key_info
    sk = hash_to_scalar(derive_input, dst, suite.expand_message)
    if sk == 0:  # probability ~2^-255; the draft returns INVALID
        raise BBSFormatError("key material derives the zero scalar; use other key material")
    return _scalar_bytes(sk)


def sk_to_pk(sk: bytes, ciphersuite: str = SHA256, *, backend: str | None = None) -> bytes:
    """SkToPk (draft §3.4.2): the 96-byte compressed G2 public key W = BP2 * SK."""
    _, be = _resolve(ciphersuite, backend)
    return be.g2_encode(be.g2_generator_mul(_decode_sk(sk)))


def sign(
    sk: bytes,
    pk: bytes,
    header: bytes,
    messages: Sequence[bytes],
    ciphersuite: str = SHA256,
    *,
    backend: str | None = None,
) -> bytes:
    """Sign (draft §3.5.1): the 80-byte signature A || e over ``header`` and ``messages``.

    ``pk`` must be the public key of ``sk``; it is hashed into the signature's domain (it is
    not re-derived here, as the draft specifies).
    """
    suite, be = _resolve(ciphersuite, backend)
    sk_int = _decode_sk(sk)
    pk = _as_bytes(pk, "public key")
    if len(pk) != G2_LENGTH:
        raise BBSFormatError(f"malformed public key: expected {G2_LENGTH} bytes, got {len(pk)}")
    header = _as_bytes(header, "header")
    msgs = _messages_to_scalars(suite, _as_messages(messages, "messages"))
    gens = _Generators(suite, be, len(msgs))
    domain = _domain(suite, pk, gens, header)
    e_input = b"".join([_scalar_bytes(sk_int), *map(_scalar_bytes, msgs), _scalar_bytes(domain)])
    e = hash_to_scalar(e_input, suite.api_id + b"H2S_", suite.expand_message)
    if (sk_int + e) % _r == 0:
        raise BBSFormatError("signing failed: SK + e is zero modulo r")
    inv = pow(sk_int + e, -1, _r)
    # A = B * 1/(SK + e), with B = P1 + Q1*domain + sum(H_i*msg_i), folded into one MSM.
    a = be.g1_msm(
        [gens.p1, gens.q1, *gens.h],
        [inv, domain * inv % _r, *(m * inv % _r for m in msgs)],
    )
    if be.g1_is_identity(a):
        raise BBSFormatError("signing failed: A is the identity")
    return be.g1_encode(a) + _scalar_bytes(e)


def verify(
    pk: bytes,
    signature: bytes,
    header: bytes,
    messages: Sequence[bytes],
    ciphersuite: str = SHA256,
    *,
    backend: str | None = None,
) -> bool:
    """Verify (draft §3.5.2): whether ``signature`` signs ``header`` and ``messages`` under
    ``pk``. Malformed inputs raise :class:`BBSFormatError` rather than returning False."""
    suite, be = _resolve(ciphersuite, backend)
    pk = _as_bytes(pk, "public key")
    header = _as_bytes(header, "header")
    messages = _as_messages(messages, "messages")
    a, e = _decode_signature(be, signature)
    w = _decode_pk(be, pk)
    msgs = _messages_to_scalars(suite, messages)
    gens = _Generators(suite, be, len(msgs))
    domain = _domain(suite, pk, gens, header)
    # e(A, W + BP2*e) * e(B, -BP2) == 1 is rewritten as e(A, W) * e(B - A*e, -BP2) == 1, which
    # moves the scalar multiplication by e from G2 into the (cheaper) G1 MSM.
    b_minus_ae = be.g1_msm([gens.p1, gens.q1, *gens.h, a], [1, domain, *msgs, _r - e])
    return be.pairing_product_is_one([(a, w), (b_minus_ae, be.g2_generator_neg())])


def proof_gen(
    pk: bytes,
    signature: bytes,
    header: bytes,
    presentation_header: bytes,
    messages: Sequence[bytes],
    disclosed_indexes: Sequence[int],
    ciphersuite: str = SHA256,
    *,
    backend: str | None = None,
    _random_scalars: RandomScalars | None = None,
) -> bytes:
    """ProofGen (draft §3.5.3): a zero-knowledge proof of a signature on ``messages`` that
    reveals only the messages at ``disclosed_indexes`` (strictly ascending, 0-based).

    The proof is 272 + 32*U bytes for U undisclosed messages and is unlinkable to the
    signature and to other proofs, apart from what the disclosed values themselves reveal.
    ``_random_scalars`` is a test hook (the draft's mocked randomness for the fixtures);
    leave it unset: by default the scalars come from the ``secrets`` CSPRNG.
    """
    suite, be = _resolve(ciphersuite, backend)
    pk = _as_bytes(pk, "public key")
    if len(pk) != G2_LENGTH:
        raise BBSFormatError(f"malformed public key: expected {G2_LENGTH} bytes, got {len(pk)}")
    header = _as_bytes(header, "header")
    presentation_header = _as_bytes(presentation_header, "presentation header")
    messages = _as_messages(messages, "messages")
    a, e = _decode_signature(be, signature)
    disclosed = _check_indexes(disclosed_indexes, len(messages), "disclosed indexes")
    msgs = _messages_to_scalars(suite, messages)
    disclosed_set = set(disclosed)
    undisclosed = [i for i in range(len(msgs)) if i not in disclosed_set]
    u = len(undisclosed)

    draw = _system_random_scalars if _random_scalars is None else _random_scalars
    randoms = [int(x) % _r for x in draw(5 + u)]
    if len(randoms) != 5 + u:
        raise ValueError(f"random scalar source returned {len(randoms)} scalars, not {5 + u}")
    r1, r2, e_tilde, r1_tilde, r3_tilde = randoms[:5]
    m_tilde = randoms[5:]
    if r2 == 0:  # probability ~2^-255; r3 = 1/r2 must exist
        raise ValueError("random scalar r2 is zero")

    # ProofInit (draft §4.3.1)
    gens = _Generators(suite, be, len(msgs))
    domain = _domain(suite, pk, gens, header)
    b_points = [gens.p1, gens.q1, *gens.h]
    b_scalars = [1, domain, *msgs]
    d = be.g1_msm(b_points, [s * r2 % _r for s in b_scalars])
    r1r2 = r1 * r2 % _r
    a_bar = be.g1_msm([a], [r1r2])
    b_bar = be.g1_msm([d, a_bar], [r1, (_r - e) % _r])
    t1 = be.g1_msm([a_bar, d], [e_tilde, r1_tilde])
    t2 = be.g1_msm([d, *(gens.h[j] for j in undisclosed)], [r3_tilde, *m_tilde])
    encoded = [be.g1_encode(p) for p in (a_bar, b_bar, d, t1, t2)]

    challenge = _challenge(
        suite, encoded, domain, disclosed, [msgs[i] for i in disclosed], presentation_header
    )

    # ProofFinalize (draft §4.3.2)
    r3 = pow(r2, -1, _r)
    e_hat = (e_tilde + e * challenge) % _r
    r1_hat = (r1_tilde - r1 * challenge) % _r
    r3_hat = (r3_tilde - r3 * challenge) % _r
    m_hat = [(mt + msgs[j] * challenge) % _r for mt, j in zip(m_tilde, undisclosed, strict=True)]
    return b"".join(
        [
            *encoded[:3],
            *(_scalar_bytes(s) for s in (e_hat, r1_hat, r3_hat, *m_hat, challenge)),
        ]
    )


def proof_verify(
    pk: bytes,
    proof: bytes,
    header: bytes,
    presentation_header: bytes,
    disclosed_messages: Sequence[bytes],
    disclosed_indexes: Sequence[int],
    ciphersuite: str = SHA256,
    *,
    backend: str | None = None,
) -> bool:
    """ProofVerify (draft §3.5.4): whether ``proof`` shows a signature by ``pk`` on messages
    that include ``disclosed_messages`` at ``disclosed_indexes`` (strictly ascending, 0-based),
    bound to ``header`` and ``presentation_header``. Malformed inputs raise
    :class:`BBSFormatError`; a well-formed proof that does not verify gives False."""
    suite, be = _resolve(ciphersuite, backend)
    pk = _as_bytes(pk, "public key")
    header = _as_bytes(header, "header")
    presentation_header = _as_bytes(presentation_header, "presentation header")
    disclosed_messages = _as_messages(disclosed_messages, "disclosed messages")
    (a_bar, b_bar, d), scalars = _decode_proof(be, proof)
    w = _decode_pk(be, pk)
    e_hat, r1_hat, r3_hat = scalars[:3]
    m_hat = scalars[3:-1]
    cp = scalars[-1]
    u = len(m_hat)
    r = len(disclosed_messages)
    if len(disclosed_indexes) != r:
        raise BBSFormatError(
            f"malformed disclosed messages: expected one per disclosed index "
            f"({len(disclosed_indexes)}), got {r}"
        )
    disclosed = _check_indexes(disclosed_indexes, u + r, "disclosed indexes")
    disclosed_set = set(disclosed)
    undisclosed = [i for i in range(u + r) if i not in disclosed_set]
    msgs = _messages_to_scalars(suite, disclosed_messages)

    # ProofVerifyInit (draft §4.4.1)
    gens = _Generators(suite, be, u + r)
    domain = _domain(suite, pk, gens, header)
    t1 = be.g1_msm([b_bar, a_bar, d], [cp, e_hat, r1_hat])
    # T2 = Bv*cp + D*r3^ + sum(H_j*m^_j), with Bv = P1 + Q1*domain + sum(H_i*msg_i).
    t2 = be.g1_msm(
        [gens.p1, gens.q1, *(gens.h[i] for i in disclosed), d, *(gens.h[j] for j in undisclosed)],
        [cp, domain * cp % _r, *(m * cp % _r for m in msgs), r3_hat, *m_hat],
    )
    encoded = [be.g1_encode(p) for p in (a_bar, b_bar, d, t1, t2)]
    challenge = _challenge(suite, encoded, domain, disclosed, msgs, presentation_header)
    if challenge != cp:
        return False
    return be.pairing_product_is_one([(a_bar, w), (b_bar, be.g2_generator_neg())])


def messages_to_scalars(messages: Sequence[bytes], ciphersuite: str = SHA256) -> list[int]:
    """messages_to_scalars (draft §4.1.2): each message hashed to a scalar (as an int)."""
    return _messages_to_scalars(_resolve_suite(ciphersuite), _as_messages(messages, "messages"))


def create_generators(
    count: int, ciphersuite: str = SHA256, *, backend: str | None = None
) -> list[bytes]:
    """The compressed P1 followed by create_generators(count) = Q1, H_1, ..., H_(count-1)."""
    suite, be = _resolve(ciphersuite, backend)
    if count < 1:
        raise BBSFormatError(f"malformed count: expected at least 1, got {count}")
    gens = _Generators(suite, be, count - 1)
    return [be.g1_encode(gens.p1), gens.q1_bytes, *gens.h_bytes]
