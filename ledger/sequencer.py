"""The sequencer: the one serial step of the log.

Admitted entries wait in a queue; a single worker thread takes them in batches (up to
``max_batch`` entries, or whatever arrived within ``max_wait`` of the first) and hands each batch
to the store's integration, which makes it durable and signs the new checkpoint. Callers get a
future that resolves only then — an acknowledged entry is never lost.

The lifecycle follows add → sequence → integrate → publish, as in Tessera.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from ledger.entries import Admitted
from ledger.errors import LedgerError, UnavailableError
from ledger.store.log_store import Integrated

__all__ = ["Sequencer", "SequencerConfig"]

log = logging.getLogger("consular_ledger.sequencer")


@dataclass(frozen=True)
class SequencerConfig:
    """How entries are batched: a batch is integrated when it holds ``max_batch`` entries, when
    its first entry has waited ``max_wait`` seconds, or when no entry arrived for ``idle``
    seconds — whichever comes first. Limits: 1 ≤ max_batch ≤ 4096, 0 ≤ max_wait ≤ 10 s."""

    max_batch: int = 256
    max_wait: float = 0.1
    idle: float = 0.005
    max_queue: int = 100_000

    def __post_init__(self) -> None:
        if not 1 <= self.max_batch <= 4096:
            raise ValueError("max_batch must be between 1 and 4096")
        if not 0 <= self.max_wait <= 10:
            raise ValueError("max_wait must be between 0 and 10 seconds")
        if not 0 <= self.idle <= 10:
            raise ValueError("idle must be between 0 and 10 seconds")


Integrate = Callable[[Sequence[Admitted]], list[Integrated | LedgerError]]
#: Told of each integrated batch: the latency (queue to durable) of each of its entries, seconds.
BatchObserver = Callable[[list[float]], None]


class Sequencer:
    """Batches admitted entries into integrations on one worker thread."""

    def __init__(
        self,
        integrate: Integrate,
        config: SequencerConfig = SequencerConfig(),
        on_batch: BatchObserver | None = None,
    ) -> None:
        self._integrate = integrate
        self._config = config
        self._on_batch = on_batch
        self._queue: queue.Queue[tuple[Admitted, Future[Integrated], float] | None] = queue.Queue(
            maxsize=config.max_queue
        )
        self._closed = threading.Event()
        self._worker = threading.Thread(target=self._run, name="sequencer", daemon=True)
        self._worker.start()

    def submit(self, item: Admitted) -> Future[Integrated]:
        """Queue ``item``; the future resolves once it is durable, or fails with a LedgerError."""
        if self._closed.is_set():
            raise UnavailableError("the log is shutting down")
        future: Future[Integrated] = Future()
        try:
            self._queue.put_nowait((item, future, time.monotonic()))
        except queue.Full:
            raise UnavailableError("the log is busy: too many entries waiting") from None
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Integrate what is queued, then stop the worker."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._queue.put(None)
        self._worker.join(timeout)

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            deadline = first[2] + self._config.max_wait
            while len(batch) < self._config.max_batch:
                # Wait for more only while entries keep coming: a lull of `idle` ends the batch
                # early, so a few writers are not held for the whole max_wait.
                remaining = min(deadline - time.monotonic(), self._config.idle)
                try:
                    item = (
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._process(batch)

    def _process(self, batch: list[tuple[Admitted, Future[Integrated], float]]) -> None:
        try:
            outcomes = self._integrate([item for item, _, _ in batch])
        except Exception as exc:  # the store failed: every entry of the batch fails, none is lost
            log.error(
                "integration failed", extra={"batch": len(batch), "error": type(exc).__name__}
            )
            failure = UnavailableError("the log could not integrate the entry; retry later")
            for _, future, _ in batch:
                future.set_exception(failure)
            return
        done = time.monotonic()
        for (_, future, _), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Integrated):
                future.set_result(outcome)
            else:
                future.set_exception(outcome)
        if self._on_batch is not None:
            self._on_batch([done - queued for _, _, queued in batch])
