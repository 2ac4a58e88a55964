"""What the identity services share: the database, the log, the key material, and a few
helpers for writing their entries to the log."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from ledger.crypto.actor_keys import ActorKey
from ledger.crypto.sealed import SealingKey
from ledger.crypto.vault import Vault
from ledger.formats.entry import sign_entry
from ledger.services.log import LogService
from ledger.store.log_store import Integrated

__all__ = ["IdentityContext", "new_pseudonym", "now_utc"]


def new_pseudonym() -> str:
    """A random 128-bit identifier, base32 lower case (26 characters): links to nothing."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class IdentityContext:
    """One per process, shared by the identity, credential and trust services."""

    engine: Engine
    log: LogService
    sealing: SealingKey
    vault: Vault
    operator: ActorKey
    append_timeout: float = 30.0
    _cache: dict[str, Any] = field(default_factory=dict)

    def append(self, signer: ActorKey, items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[int]:
        """Sign and append entries (one batch where possible); their indexes once durable."""
        now = now_utc()
        futures = [
            self.log.append(sign_entry(kind, body, signer, time=now).encode())
            for kind, body in items
        ]
        results: list[Integrated] = [f.result(timeout=self.append_timeout) for f in futures]
        return [r.index for r in results]
