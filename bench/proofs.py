"""Inclusion- and consistency-proof times from the stored tree, at 10^5 and 10^6 leaves.

Why: the log's target is proofs in ≤ 1 ms at 10^6 leaves. This times the read path an auditor
hits — ``LogStore.inclusion_proof`` / ``LogStore.consistency_proof`` (a size check, then one
indexed read of the O(log n) stored subtree hashes, folded into the RFC 9162 proof) — on random
indexes and sizes, and the client's side too: ``merkle.verify_inclusion`` /
``merkle.verify_consistency``.

Filling 10^6 leaves through admission would take minutes, so the log is filled through
``LogStore.integrate`` with ``Admitted`` items built directly from cheap, well-formed but
unsigned entries, in large batches (each batch still writes every subtree hash and signs a
checkpoint, as in production). The filled SQLite file is kept under
``/tmp/consular-ledger-bench/`` keyed by size and reused (``--rebuild`` to refill). PostgreSQL
(``--pg-sizes``, 10^5 by default: it fills at only ~3,600 leaves/s here, so 10^6 would take
~5 minutes) is filled in a fresh schema each run, and the schema dropped afterwards.

Before timing, the checkpoint root is checked against the RFC 9162 root recomputed from the
known leaves (the list-based reference in ``ledger.merkle``), and a sample of proofs is
verified against it.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _machine import DEFAULT_PG_URL, median, p95, pg_schema, print_machine

from ledger import merkle
from ledger.crypto.actor_keys import ActorKey
from ledger.entries import Admitted, NoteBody
from ledger.formats.entry import Entry
from ledger.services.log import LogConfig, LogService
from ledger.store.database import create_database_engine
from ledger.store.log_store import LogStore
from ledger.store.migrate import upgrade

ORIGIN = "bench.consular-ledger.localhost/log"
CACHE = Path("/tmp/consular-ledger-bench")
FILL_BATCH = 10_000
TARGET_MS = 1.0
#: A fixed key for the cached logs, so a reused file's checkpoints verify with the same key.
LOG_KEY_SEED = bytes(range(32))
_ACTOR = "0" * 32
_SIG = "A" * 86 + "=="  # base64 of 64 zero bytes
_TIME = "2026-11-23T00:00:00Z"
_BODY = NoteBody(text="benchmark leaf")


def leaf_data(i: int) -> bytes:
    """The canonical (RFC 8785) bytes of leaf ``i``: a well-formed entry, unsigned (zero sig)."""
    return (
        f'{{"actor":"{_ACTOR}","body":{{"text":"benchmark leaf {i:09d}"}},'
        f'"sig":"{_SIG}","time":"{_TIME}","type":"log.note","v":1}}'
    ).encode()


def admitted(i: int) -> Admitted:
    data = leaf_data(i)
    entry = Entry("log.note", _TIME, _ACTOR, {"text": f"benchmark leaf {i:09d}"}, bytes(64))
    return Admitted(entry, data, _BODY)


# --- filling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filled:
    backend: str
    size: int
    fill_seconds: float | None  # None: reused from the cache


def fill(service: LogService, size: int) -> float:
    """Integrate leaves 0 … size−1 in batches of FILL_BATCH; returns the seconds it took."""
    began = time.perf_counter()
    start = service.store.size()
    for first in range(start, size, FILL_BATCH):
        batch = [admitted(i) for i in range(first, min(size, first + FILL_BATCH))]
        for outcome in service.store.integrate(batch):
            if isinstance(outcome, Exception):
                raise outcome
    return time.perf_counter() - began


@contextmanager
def open_log(url: str) -> Iterator[LogService]:
    engine = create_database_engine(url)
    upgrade(engine)
    service = LogService(engine, ActorKey(LOG_KEY_SEED), LogConfig(ORIGIN))
    try:
        yield service
    finally:
        service.close()
        engine.dispose()


@contextmanager
def sqlite_log(size: int, rebuild: bool) -> Iterator[tuple[LogService, Filled]]:
    path = CACHE / f"proofs-{size}.db"
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    with open_log(f"sqlite:///{path}") as service:
        seconds = None
        if service.store.size() != size:
            if service.store.size() > size:
                raise RuntimeError(f"{path} holds more than {size} leaves; use --rebuild")
            seconds = fill(service, size)
        yield service, Filled("sqlite", size, seconds)


@contextmanager
def pg_log(base_url: str, size: int) -> Iterator[tuple[LogService, Filled]]:
    with pg_schema(base_url, "bench_proofs") as url, open_log(url) as service:
        yield service, Filled("postgresql", size, fill(service, size))


# --- checking and timing ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What the benchmark knows independently of the store: leaf hashes and roots."""

    leaves: list[bytes]
    root: bytes
    prefix_roots: dict[int, bytes]  # tree size → root


def reference(size: int, prefixes: set[int]) -> Reference:
    """Leaf hashes, the RFC 9162 root (list-based reference) and the roots of some prefixes."""
    leaves = [merkle.leaf_hash(leaf_data(i)) for i in range(size)]
    edge = merkle.CompactRange(0, [])
    roots: dict[int, bytes] = {}
    for leaf in leaves:
        edge.append(leaf)
        if edge.size in prefixes:
            roots[edge.size] = edge.root()
    full = merkle.root(leaves)
    if edge.root() != full:
        raise AssertionError("CompactRange and the reference root disagree")
    return Reference(leaves, full, roots)


def check(store: LogStore, size: int, ref: Reference, indexes: list[int], olds: list[int]) -> None:
    """The checkpoint is the reference root; the sample proofs verify against it."""
    checkpoint = store.latest_checkpoint()
    assert checkpoint is not None and checkpoint.size == size, "no checkpoint of the full size"
    if checkpoint.root != ref.root:
        raise AssertionError("the checkpoint root is not the RFC 9162 root of the leaves")
    for index in indexes:
        proof = store.inclusion_proof(index, size)
        merkle.verify_inclusion(ref.leaves[index], index, size, proof, ref.root)
    for old in olds:
        proof = store.consistency_proof(old, size)
        merkle.verify_consistency(old, size, proof, ref.prefix_roots[old], ref.root)


@dataclass(frozen=True)
class Timing:
    backend: str
    size: int
    fill_seconds: float | None
    times: dict[str, list[float]]  # what → seconds per operation (or per-pass medians)


def _time_calls(
    calls: Iterator[Callable[[], object]], budget: float, minimum: int = 20
) -> tuple[list[float], list[object]]:
    """Time each call until they run out or ``budget`` seconds pass (after ``minimum`` calls)."""
    times: list[float] = []
    results: list[object] = []
    stop = time.perf_counter() + budget
    for call in calls:
        began = time.perf_counter()
        results.append(call())
        now = time.perf_counter()
        times.append(now - began)
        if now > stop and len(times) >= minimum:
            break
    return times, results


def measure(
    store: LogStore, size: int, ref: Reference, indexes: list[int], olds: list[int], budget: float
) -> dict[str, list[float]]:
    """One timing pass: proofs from the store, then verification of the same proofs."""
    for i in range(10):  # warm the connection pool and the page cache
        store.inclusion_proof(indexes[i % len(indexes)], size)
    incl_t, incl = _time_calls(
        (lambda i=i: store.inclusion_proof(i, size) for i in indexes), budget
    )
    cons_t, cons = _time_calls(
        (lambda old=old: store.consistency_proof(old, size) for old in olds), budget
    )
    verify_incl, _ = _time_calls(
        (
            lambda k=k: merkle.verify_inclusion(
                ref.leaves[indexes[k]], indexes[k], size, incl[k], ref.root
            )
            for k in range(len(incl))
        ),
        budget,
    )
    verify_cons, _ = _time_calls(
        (
            lambda k=k: merkle.verify_consistency(
                olds[k], size, cons[k], ref.prefix_roots[olds[k]], ref.root
            )
            for k in range(len(cons))
        ),
        budget,
    )
    return {
        "inclusion proof": incl_t,
        "consistency proof": cons_t,
        "verify inclusion": verify_incl,
        "verify consistency": verify_cons,
    }


# --- the report -------------------------------------------------------------------------------


def _parse_sizes(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e5,1e6", help="tree sizes (SQLite)")
    parser.add_argument("--pg-sizes", default="1e5", help="tree sizes on PostgreSQL ('' off)")
    parser.add_argument("--proofs", type=int, default=2000, help="timed proofs of each kind")
    parser.add_argument("--samples", type=int, default=50, help="proofs verified before timing")
    parser.add_argument("--repeats", type=int, default=3, help="timing passes; median reported")
    parser.add_argument(
        "--budget", type=float, default=10.0, help="seconds at most per kind of timing per pass"
    )
    parser.add_argument("--rebuild", action="store_true", help="refill the cached SQLite logs")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--quick", action="store_true", help="a smoke run in well under 30 s")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.pg_sizes = "2e4", "2e4"
        args.proofs, args.samples, args.repeats, args.budget = 300, 50, 1, 2.0

    print_machine("proof times from the stored tree (bench/proofs.py)", args.pg_url)
    CACHE.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    results: list[Timing] = []
    counts: dict[tuple[str, int], int] = {}
    plans: list[tuple[str, int]] = [("sqlite", n) for n in _parse_sizes(args.sizes)]
    plans += [("postgresql", n) for n in _parse_sizes(args.pg_sizes)]
    for backend, size in plans:
        opened = (
            sqlite_log(size, args.rebuild) if backend == "sqlite" else pg_log(args.pg_url, size)
        )
        with opened as (service, filled):
            how = (
                "reused from the cache"
                if filled.fill_seconds is None
                else f"filled in {filled.fill_seconds:.1f} s "
                f"({size / filled.fill_seconds:,.0f} leaves/s)"
            )
            print(f"{backend} {size:,} leaves: {how}", flush=True)
            rng = random.Random(size)
            passes_in = [
                (
                    [rng.randrange(size) for _ in range(args.proofs)],
                    [rng.randrange(1, size) for _ in range(args.proofs)],
                )
                for _ in range(args.repeats)
            ]
            samples = (
                [rng.randrange(size) for _ in range(args.samples)],
                [rng.randrange(1, size) for _ in range(args.samples)],
            )
            wanted = {old for _, olds in passes_in for old in olds} | set(samples[1])
            ref = reference(size, wanted)
            check(service.store, size, ref, *samples)
            print(
                f"  checked: checkpoint root = reference root; {args.samples} inclusion and "
                f"{args.samples} consistency proofs verified against it",
                flush=True,
            )
            passes = []
            for number, (indexes, olds) in enumerate(passes_in, 1):
                times = measure(service.store, size, ref, indexes, olds, args.budget)
                passes.append(times)
                print(
                    f"  pass {number}: "
                    + "; ".join(
                        f"{what} {median(t) * 1000:.3f} ms (n={len(t)})"
                        for what, t in times.items()
                    ),
                    flush=True,
                )
        merged = {what: [median(p[what]) for p in passes] for what in passes[0]}
        p95s = {what + " p95": [p95(p[what]) for p in passes] for what in passes[0]}
        counts[(backend, size)] = min(len(t) for p in passes for t in p.values())
        results.append(Timing(backend, size, filled.fill_seconds, {**merged, **p95s}))

    print()
    print(
        f"Results: median (and p95) time per operation, ms; up to {args.proofs} random proofs of "
        f"each kind per pass (fewer when a pass hit --budget {args.budget:g} s: n), "
        f"median of {args.repeats} pass(es)"
    )
    header = (
        f"{'backend':<10} {'leaves':>9} {'fill s':>7} {'incl. proof':>18} {'cons. proof':>18} "
        f"{'verify incl.':>18} {'verify cons.':>18} {'n':>5}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for r in results:
        cells = []
        for what in (
            "inclusion proof",
            "consistency proof",
            "verify inclusion",
            "verify consistency",
        ):
            med = median(r.times[what]) * 1000
            tail = median(r.times[what + " p95"]) * 1000
            cells.append(f"{med:.3f} ({tail:.3f})")
        fill_s = "cached" if r.fill_seconds is None else f"{r.fill_seconds:.1f}"
        print(
            f"{r.backend:<10} {r.size:>9,} {fill_s:>7} "
            + " ".join(f"{cell:>18}" for cell in cells)
            + f" {counts[(r.backend, r.size)]:>5}"
        )
        if r.size >= 1_000_000:
            worst = max(median(r.times["inclusion proof"]), median(r.times["consistency proof"]))
            verdicts.append(
                f"target proofs ≤ {TARGET_MS:.0f} ms at {r.size:,} leaves ({r.backend}): "
                f"slowest median {worst * 1000:.3f} ms → "
                + ("MET" if worst * 1000 <= TARGET_MS else "NOT MET")
            )
    print()
    for line in verdicts:
        print(line)
    print(f"total time {time.perf_counter() - began:.0f} s; SQLite cache in {CACHE}")


def _suffix(values: dict[str, list[float]], suffix: str) -> dict[str, list[float]]:
    return {what + suffix: v for what, v in values.items()}


if __name__ == "__main__":
    main()
