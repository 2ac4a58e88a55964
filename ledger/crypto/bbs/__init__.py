"""BBS selective-disclosure signatures on BLS12-381 (draft-irtf-cfrg-bbs-signatures-09).

An issuer signs a list of messages (e.g. the attributes of a credential) with one 80-byte
signature; the holder later derives a zero-knowledge proof that reveals only the messages it
chooses, bound to a presentation header (verifier nonce). Proofs of the same signature are
unlinkable to each other, except through the disclosed values, the header and the number of
messages (see docs/bbs.md).

Both ciphersuites are implemented: ``SHA256`` ("BLS12-381-SHA-256", the default) and
``SHAKE256`` ("BLS12-381-SHAKE-256"). All inputs and outputs are bytes in the draft's
encodings: 32-byte big-endian scalars, compressed points, signatures A || e (80 bytes),
proofs of 272 + 32*U bytes for U undisclosed messages.

Two interchangeable group backends give byte-identical results: ``"fast"``
(py-arkworks-bls12381, used by default when it imports) and ``"reference"`` (pure Python on
py-ecc; slow and not constant-time, for cross-checking). ``CONSULAR_LEDGER_BBS_BACKEND`` forces
one; every function also takes ``backend=``.

Example::

    from ledger.crypto import bbs

    sk = bbs.keygen(os.urandom(32))
    pk = bbs.sk_to_pk(sk)
    msgs = [b"name=Ada", b"born=1815", b"nationality=GB"]
    sig = bbs.sign(sk, pk, b"passport-v1", msgs)
    assert bbs.verify(pk, sig, b"passport-v1", msgs)
    proof = bbs.proof_gen(pk, sig, b"passport-v1", b"nonce-42", msgs, [2])
    assert bbs.proof_verify(pk, proof, b"passport-v1", b"nonce-42", [msgs[2]], [2])

``verify`` and ``proof_verify`` return False for a signature or proof that does not verify and
raise :class:`BBSFormatError` (a :class:`ledger.errors.MalformedError`) for malformed input.
"""

from __future__ import annotations

from ._backends import (
    BACKEND_ENV_VAR,
    FAST,
    REFERENCE,
    BackendUnavailableError,
    available_backends,
    set_default_backend,
)
from ._backends import default_backend as _default_backend
from ._ciphersuites import SHA256, SHAKE256
from ._errors import BBSFormatError
from ._scheme import (
    PROOF_BASE_LENGTH,
    SCALAR_LENGTH,
    SIGNATURE_LENGTH,
    keygen,
    proof_gen,
    proof_verify,
    sign,
    sk_to_pk,
    verify,
)

__all__ = [
    "BACKEND_ENV_VAR",
    "FAST",
    "PROOF_BASE_LENGTH",
    "REFERENCE",
    "SCALAR_LENGTH",
    "SHA256",
    "SHAKE256",
    "SIGNATURE_LENGTH",
    "BBSFormatError",
    "BackendUnavailableError",
    "available_backends",
    "default_backend_name",
    "keygen",
    "proof_gen",
    "proof_verify",
    "set_default_backend",
    "sign",
    "sk_to_pk",
    "verify",
]


def default_backend_name() -> str:
    """Name of the backend used when a call does not pass ``backend=``."""
    return _default_backend().name
