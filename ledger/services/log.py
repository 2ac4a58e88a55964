"""The log as a service: admit, sequence, integrate, publish; and the reads auditors need.

Example::

    service = LogService(engine, log_key, origin="consulate.example/log")
    service.bootstrap(operator_key)           # first entry: the operator's own key
    outcome = service.append(entry_bytes).result()
    proof = service.store.inclusion_proof(outcome.index, outcome.checkpoint_size)
    service.close()
"""

from __future__ import annotations

import base64
import contextlib
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from ledger.crypto.actor_keys import ActorKey
from ledger.entries import ActorInfo, Admitted, admit
from ledger.errors import ConflictError
from ledger.formats.checkpoint import Checkpoint, sign_checkpoint
from ledger.formats.entry import sign_entry
from ledger.formats.note import format_vkey
from ledger.sequencer import BatchObserver, Sequencer, SequencerConfig
from ledger.store.log_store import Integrated, LogStore

__all__ = ["OPERATOR_TYPES", "LogConfig", "LogService"]

#: What the operator's own key may write.
OPERATOR_TYPES = ("trust.*", "log.*")


@dataclass(frozen=True)
class LogConfig:
    """The log's identity and limits. ``origin`` is also the checkpoint key name."""

    origin: str
    sequencer: SequencerConfig = field(default_factory=SequencerConfig)
    max_future_skew: timedelta = timedelta(minutes=10)
    max_entry_age: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if not self.origin or any(ch.isspace() or ch == "+" for ch in self.origin):
            raise ValueError("origin must be non-empty, without spaces or '+'")


class LogService:
    """One per process: owns the store and the sequencer for one log."""

    def __init__(
        self,
        engine: Engine,
        log_key: ActorKey,
        config: LogConfig,
        *,
        on_batch: BatchObserver | None = None,
    ) -> None:
        self.config = config
        self._log_key = log_key
        self.store = LogStore(engine, self._sign_checkpoint)
        self._actors: dict[str, ActorInfo] = {}
        self._actors_lock = threading.Lock()
        self._sequencer = Sequencer(self.store.integrate, config.sequencer, on_batch)

    # --- identity -----------------------------------------------------------------------------

    @property
    def vkey(self) -> str:
        """The log's verifier key in C2SP note form: ``origin+hex(keyid)+base64(0x01‖key)``."""
        return format_vkey(self.config.origin, self._log_key.public_key)

    def _sign_checkpoint(self, size: int, root: bytes) -> str:
        return sign_checkpoint(
            Checkpoint(self.config.origin, size, root),
            self.config.origin,
            self._log_key.sign,
            self._log_key.public_key,
        )

    # --- writing ------------------------------------------------------------------------------

    def bootstrap(self, operator: ActorKey) -> None:
        """Make the operator's key the log's first entry, if the log is empty.

        The first entry is the operator's self-signed ``trust.key_added``: every later key is
        admitted by a key already in the log, so an auditor can replay who may write what.
        """
        if self.store.size() > 0:
            return
        body = {
            "key_id": operator.key_id,
            "public_key": _b64(operator.public_key),
            "name": "log operator",
            "types": list(OPERATOR_TYPES),
        }
        genesis = ActorInfo(operator.key_id, operator.public_key, OPERATOR_TYPES, "log operator")
        entry = sign_entry("trust.key_added", body, operator)
        item = admit(entry.encode(), self, extra_actor=genesis)
        with contextlib.suppress(ConflictError):  # another process bootstrapped it first
            self._sequencer.submit(item).result()

    def admit(self, data: bytes) -> Admitted:
        """Run the admission checks on submitted entry bytes (raises on any failure)."""
        return admit(
            data,
            self,
            max_future=self.config.max_future_skew,
            max_past=self.config.max_entry_age,
        )

    def append(self, data: bytes) -> Future[Integrated]:
        """Admit ``data`` and queue it; the future resolves once the entry is durable."""
        return self._sequencer.submit(self.admit(data))

    def submit(self, item: Admitted) -> Future[Integrated]:
        """Queue an already admitted entry."""
        return self._sequencer.submit(item)

    def close(self) -> None:
        """Integrate what is queued and stop."""
        self._sequencer.close()

    # --- the actor directory used by admission -------------------------------------------------

    def actor(self, key_id: str) -> ActorInfo | None:
        """A known actor key (cached once found: keys are only ever added to the log)."""
        with self._actors_lock:
            known = self._actors.get(key_id)
        if known is not None:
            return known
        found = self.store.actor(key_id)
        if found is not None:
            with self._actors_lock:
                self._actors[key_id] = found
        return found


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
