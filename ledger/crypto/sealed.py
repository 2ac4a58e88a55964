"""Secrets at rest: sealed with XSalsa20-Poly1305 (PyNaCl SecretBox) under a key that never
touches the disk next to them.

The sealing key comes either from a passphrase stretched with Argon2id (salt and cost stored
in the sealed blob, so the cost can be raised later) or directly from a 32-byte master key
(e.g. an environment variable fed by a secret manager). The sealed form is a small JSON
document, safe to store anywhere.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ledger.errors import MalformedError, VerificationError

__all__ = ["SealingKey", "open_sealed", "seal"]

_ARGON = nacl.pwhash.argon2id


@dataclass(frozen=True, repr=False)
class SealingKey:
    """Where the sealing key comes from: a passphrase (Argon2id) or a raw 32-byte master key."""

    passphrase: bytes | None = None
    master_key: bytes | None = None
    opslimit: int = _ARGON.OPSLIMIT_MODERATE
    memlimit: int = _ARGON.MEMLIMIT_INTERACTIVE

    def __post_init__(self) -> None:
        if (self.passphrase is None) == (self.master_key is None):
            raise ValueError("give exactly one of passphrase or master_key")
        if self.master_key is not None and len(self.master_key) != nacl.secret.SecretBox.KEY_SIZE:
            raise MalformedError("master key must be 32 bytes")
        if self.passphrase is not None and len(self.passphrase) < 12:
            raise MalformedError("passphrase too short: use at least 12 characters")

    def __repr__(self) -> str:
        return "SealingKey(<secret>)"

    def _derive(self, salt: bytes, opslimit: int, memlimit: int) -> bytes:
        if self.master_key is not None:
            return self.master_key
        assert self.passphrase is not None
        return _ARGON.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            self.passphrase,
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )


def seal(plaintext: bytes, key: SealingKey, *, label: str) -> bytes:
    """Encrypt ``plaintext``; ``label`` is bound in, so one sealed blob can't stand for another."""
    salt = nacl.utils.random(_ARGON.SALTBYTES)
    box = nacl.secret.SecretBox(key._derive(salt, key.opslimit, key.memlimit))
    ciphertext = box.encrypt(_bind(label, plaintext))
    doc = {
        "v": 1,
        "label": label,
        "kdf": "argon2id" if key.passphrase is not None else "raw",
        "salt": base64.b64encode(salt).decode(),
        "opslimit": key.opslimit,
        "memlimit": key.memlimit,
        "box": base64.b64encode(bytes(ciphertext)).decode(),
    }
    return json.dumps(doc, indent=1).encode() + b"\n"


def open_sealed(sealed: bytes, key: SealingKey, *, label: str) -> bytes:
    """Decrypt a blob made by :func:`seal`; a wrong key, label or any altered byte raises."""
    try:
        doc = json.loads(sealed)
        if doc.get("v") != 1:
            raise MalformedError("sealed secret: unknown version")
        kdf = doc["kdf"]
        salt = base64.b64decode(doc["salt"], validate=True)
        box_bytes = base64.b64decode(doc["box"], validate=True)
        opslimit, memlimit = int(doc["opslimit"]), int(doc["memlimit"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedError(
            f"sealed secret: not a sealed document ({type(exc).__name__})"
        ) from None
    if (kdf == "raw") != (key.master_key is not None):
        raise VerificationError(
            f"sealed secret: it was sealed with kdf {kdf!r}; give the matching key"
        )
    box = nacl.secret.SecretBox(key._derive(salt, opslimit, memlimit))
    try:
        bound = box.decrypt(box_bytes)
    except nacl.exceptions.CryptoError:
        raise VerificationError(
            "sealed secret: wrong passphrase or key, or the file was altered"
        ) from None
    prefix = _bind(label, b"")
    if not bound.startswith(prefix):
        raise VerificationError(f"sealed secret: not sealed for {label!r}")
    return bound[len(prefix) :]


def _bind(label: str, plaintext: bytes) -> bytes:
    encoded = label.encode()
    return len(encoded).to_bytes(2, "big") + encoded + plaintext
