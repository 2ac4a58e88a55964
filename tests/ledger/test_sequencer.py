"""The sequencer batches, keeps order, fails whole batches cleanly, and flushes on close."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from ledger.entries import Admitted
from ledger.errors import ConflictError, LedgerError, UnavailableError
from ledger.sequencer import Sequencer, SequencerConfig
from ledger.store.log_store import Integrated


class FakeStore:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[object]] = []
        self.fail = fail
        self.gate = threading.Event()
        self.gate.set()

    def integrate(self, batch: Sequence[Admitted]) -> list[Integrated | LedgerError]:
        self.gate.wait(10)
        if self.fail:
            raise OSError("disk on fire")
        start = sum(len(b) for b in self.batches)
        self.batches.append(list(batch))
        return [
            ConflictError("no") if item == "conflict" else Integrated(start + i, b"", start + i + 1)
            for i, item in enumerate(batch)
        ]


def test_batches_respect_max_batch_and_keep_order() -> None:
    store = FakeStore()
    store.gate.clear()  # hold the first batch so the rest queue up
    sequencer = Sequencer(store.integrate, SequencerConfig(max_batch=4, max_wait=1.0))
    futures = [sequencer.submit(i) for i in range(10)]  # type: ignore[arg-type]
    store.gate.set()
    indexes = [f.result(timeout=10).index for f in futures]
    sequencer.close()
    assert indexes == list(range(10))
    assert all(len(b) <= 4 for b in store.batches)
    assert [x for b in store.batches for x in b] == list(range(10))


def test_one_entry_outcome_does_not_sink_the_batch() -> None:
    store = FakeStore()
    sequencer = Sequencer(store.integrate, SequencerConfig(max_batch=8, max_wait=0.05))
    ok, bad = sequencer.submit("a"), sequencer.submit("conflict")  # type: ignore[arg-type]
    assert isinstance(ok.result(timeout=10), Integrated)
    with pytest.raises(ConflictError):
        bad.result(timeout=10)
    sequencer.close()


def test_a_failing_store_fails_every_entry_of_the_batch_as_retryable() -> None:
    store = FakeStore(fail=True)
    sequencer = Sequencer(store.integrate, SequencerConfig(max_batch=8, max_wait=0.05))
    futures = [sequencer.submit(i) for i in range(3)]  # type: ignore[arg-type]
    for future in futures:
        with pytest.raises(UnavailableError, match="retry later"):
            future.result(timeout=10)
    sequencer.close()


def test_close_integrates_what_is_queued_and_then_refuses() -> None:
    store = FakeStore()
    store.gate.clear()
    sequencer = Sequencer(store.integrate, SequencerConfig(max_batch=2, max_wait=5.0))
    futures = [sequencer.submit(i) for i in range(5)]  # type: ignore[arg-type]
    store.gate.set()
    sequencer.close()
    assert [f.result(timeout=1).index for f in futures] == list(range(5))
    with pytest.raises(UnavailableError, match="shutting down"):
        sequencer.submit(99)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs", [{"max_batch": 0}, {"max_batch": 5000}, {"max_wait": -1}, {"idle": 11}]
)
def test_config_limits(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SequencerConfig(**kwargs)  # type: ignore[arg-type]
