"""What the identity services share: the database, the log, the key material, and a few
helpers for writing their entries to the log."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from ledger.crypto.actor_keys import ActorKey
from ledger.crypto.sealed import SealingKey
from ledger.crypto.vault import Vault
from ledger.errors import ConflictError, UnavailableError
from ledger.formats.entry import sign_entry
from ledger.services.log import LogService
from ledger.store.log_store import Integrated

__all__ = ["AppendPendingError", "IdentityContext", "new_pseudonym", "now_utc"]


class AppendPendingError(UnavailableError):
    """The log has not confirmed an entry in time: it is queued and may still land, so what
    depends on it must not be undone as if it had failed."""


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
        try:
            results: list[Integrated] = [f.result(timeout=self.append_timeout) for f in futures]
        except FutureTimeout:
            raise AppendPendingError(
                "the log did not confirm the entry in time; it may still be recorded"
            ) from None
        if any(r.duplicate for r in results):  # service entries are always new events
            raise ConflictError("an identical entry is already in the log; try again")
        return [r.index for r in results]
