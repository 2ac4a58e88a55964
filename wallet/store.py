"""The holder's wallet on disk: one sealed file in a directory.

``wallet.sealed`` is a :mod:`ledger.crypto.sealed` document: the contents are JSON (the device
key, the imported offers and a use count per credential), encrypted with XSalsa20-Poly1305 under
a key stretched from the holder's passphrase with Argon2id (salt and cost inside the file). No
attribute is stored in the clear; without the passphrase the file says nothing but its size.
Every save writes a temporary file and renames it into place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.pwhash

from ledger.crypto.sealed import SealingKey, open_sealed, seal
from ledger.errors import ConflictError, MalformedError, NotFoundError
from wallet.trust_cache import atomic_write

__all__ = [
    "DEFAULT_MEMLIMIT",
    "DEFAULT_OPSLIMIT",
    "WALLET_FILE",
    "WalletContents",
    "WalletStore",
    "sealing_key",
]

WALLET_FILE = "wallet.sealed"
LABEL = "consular-wallet/v1"
FORMAT_VERSION = 1
DEFAULT_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def sealing_key(
    passphrase: str | bytes, *, opslimit: int | None = None, memlimit: int | None = None
) -> SealingKey:
    """The Argon2id sealing key for ``passphrase`` (cost: module defaults unless given)."""
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    return SealingKey(
        passphrase=secret,
        opslimit=opslimit if opslimit is not None else DEFAULT_OPSLIMIT,
        memlimit=memlimit if memlimit is not None else DEFAULT_MEMLIMIT,
    )


@dataclass
class WalletContents:
    """The plaintext of the sealed file."""

    device_seed: bytes
    created_at: str
    documents: list[dict[str, Any]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "version": FORMAT_VERSION,
                "device_seed": self.device_seed.hex(),
                "created_at": self.created_at,
                "documents": self.documents,
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> WalletContents:
        try:
            obj = json.loads(data)
            if obj["version"] != FORMAT_VERSION:
                raise MalformedError("wallet file: unknown version")
            seed = bytes.fromhex(obj["device_seed"])
            documents = list(obj["documents"])
            if len(seed) != 32:
                raise MalformedError("wallet file: device key")
            return cls(seed, str(obj["created_at"]), documents)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, MalformedError):
                raise
            raise MalformedError("wallet file: damaged contents") from None


class WalletStore:
    """Read and write the sealed wallet file in ``directory``."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    @property
    def path(self) -> Path:
        return self.directory / WALLET_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def create(self, contents: WalletContents, key: SealingKey) -> None:
        if self.exists():
            raise ConflictError(f"a wallet already exists in {self.directory}")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.save(contents, key)

    def load(self, key: SealingKey) -> WalletContents:
        """Decrypt; a wrong passphrase or an altered file raises VerificationError."""
        try:
            sealed = self.path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(
                f"no wallet in {self.directory}: run 'consular-wallet init' first"
            ) from None
        return WalletContents.from_bytes(open_sealed(sealed, key, label=LABEL))

    def save(self, contents: WalletContents, key: SealingKey) -> None:
        atomic_write(self.path, seal(contents.to_bytes(), key, label=LABEL))
