"""Envelope encryption of personal records: each record under its own random data key
(XSalsa20-Poly1305, PyNaCl SecretBox), each data key wrapped by the vault's key-encryption key.

Crypto-shredding a record means deleting its wrapped data key: the ciphertext, wherever copies
of it went, can no longer be opened. (Copies of the *wrapped key* — e.g. in a database backup —
would still open it with the KEK; backups of the vault must expire, or the KEK be rotated.)
"""

from __future__ import annotations

import nacl.exceptions
import nacl.secret
import nacl.utils

from ledger.errors import MalformedError, VerificationError

__all__ = ["Vault"]

_KEY_SIZE = nacl.secret.SecretBox.KEY_SIZE


class Vault:
    """Seals and opens personal records; holds the key-encryption key. Never printed."""

    __slots__ = ("_kek",)

    def __init__(self, kek: bytes) -> None:
        if len(kek) != _KEY_SIZE:
            raise MalformedError("the vault key must be 32 bytes")
        self._kek = nacl.secret.SecretBox(kek)

    def __repr__(self) -> str:
        return "Vault(<secret>)"

    def seal(self, record: bytes, *, context: bytes) -> tuple[bytes, bytes]:
        """``(wrapped data key, ciphertext)`` for ``record``; ``context`` (e.g. the subject id)
        is bound in, so one subject's ciphertext cannot be passed off as another's."""
        data_key = nacl.utils.random(_KEY_SIZE)
        ciphertext = nacl.secret.SecretBox(data_key).encrypt(_bind(context, record))
        wrapped = self._kek.encrypt(_bind(context, data_key))
        return bytes(wrapped), bytes(ciphertext)

    def open(self, wrapped_key: bytes, ciphertext: bytes, *, context: bytes) -> bytes:
        """The record; raises VerificationError for a wrong key, context or altered bytes."""
        try:
            data_key = _unbind(context, self._kek.decrypt(wrapped_key))
            return _unbind(context, nacl.secret.SecretBox(data_key).decrypt(ciphertext))
        except nacl.exceptions.CryptoError:
            raise VerificationError("vault: the record cannot be opened with this key") from None


def _bind(context: bytes, data: bytes) -> bytes:
    return len(context).to_bytes(2, "big") + context + data


def _unbind(context: bytes, data: bytes) -> bytes:
    prefix = _bind(context, b"")
    if not data.startswith(prefix):
        raise VerificationError("vault: the record belongs to another subject")
    return data[len(prefix) :]
