"""Ed25519 keys of the actors who write to the log (operators, officers, consulates).

An actor is named in every entry by a key id derived from its public key alone, so anyone
can recompute it: ``hex(SHA-256("consular-ledger/actor-key/v1\\n" || public_key))[:32]``
(128 bits, enough to make a collision infeasible while keeping entries short).
"""

from __future__ import annotations

import hashlib

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ledger.errors import MalformedError, VerificationError

__all__ = ["ActorKey", "actor_key_id", "verify_actor_signature"]

_KEY_ID_DOMAIN = b"consular-ledger/actor-key/v1\n"


def actor_key_id(public_key: bytes) -> str:
    """Return the key id that names the holder of ``public_key`` (32 lower-case hex characters)."""
    if len(public_key) != 32:
        raise MalformedError(f"malformed public key: expected 32 bytes, got {len(public_key)}")
    return hashlib.sha256(_KEY_ID_DOMAIN + public_key).hexdigest()[:32]


def verify_actor_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature; raise :class:`VerificationError` if it does not verify."""
    if len(signature) != 64:
        raise MalformedError(f"malformed signature: expected 64 bytes, got {len(signature)}")
    try:
        VerifyKey(public_key).verify(message, signature)
    except BadSignatureError:
        raise VerificationError("signature does not verify for the actor's key") from None


class ActorKey:
    """An actor's private Ed25519 key. Never printed: its repr shows the key id only."""

    __slots__ = ("_signing_key",)

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise MalformedError(f"malformed private key: expected a 32-byte seed, got {len(seed)}")
        self._signing_key = SigningKey(seed)

    @classmethod
    def generate(cls) -> ActorKey:
        """A fresh key from the operating system's random source."""
        return cls(bytes(SigningKey.generate()))

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed, for sealing into a key file only."""
        return bytes(self._signing_key)

    @property
    def public_key(self) -> bytes:
        return bytes(self._signing_key.verify_key)

    @property
    def key_id(self) -> str:
        return actor_key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._signing_key.sign(message).signature

    def __repr__(self) -> str:
        return f"ActorKey(key_id={self.key_id!r})"
