"""The service's private keys on disk, each sealed (Argon2id or master key → SecretBox).

Two keys: ``log`` signs checkpoints; ``operator`` signs the operator's own entries (the first
entry admits it). Files are written with mode 0600 and never hold a key in the clear.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.crypto.actor_keys import ActorKey
from ledger.crypto.sealed import SealingKey, open_sealed, seal
from ledger.errors import NotFoundError

__all__ = ["KEY_NAMES", "create_key", "key_path", "load_key"]

KEY_NAMES = ("log", "operator")


def key_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.key"


def create_key(directory: Path, name: str, sealing: SealingKey) -> ActorKey:
    """Generate key ``name`` and write it sealed; refuses to overwrite an existing key."""
    directory.mkdir(parents=True, exist_ok=True)
    path = key_path(directory, name)
    key = ActorKey.generate()
    sealed = seal(key.seed, sealing, label=f"consular-ledger/{name}-key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(sealed)
        out.flush()
        os.fsync(out.fileno())
    return key


def load_key(directory: Path, name: str, sealing: SealingKey) -> ActorKey:
    """Open sealed key ``name``; a wrong passphrase or altered file raises VerificationError."""
    path = key_path(directory, name)
    try:
        sealed = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"no {name} key at {path}: run `consular-ledger init` first") from None
    return ActorKey(open_sealed(sealed, sealing, label=f"consular-ledger/{name}-key"))
