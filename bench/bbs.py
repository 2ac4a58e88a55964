"""BBS (draft-irtf-cfrg-bbs-signatures-09) timings on each backend.

Median milliseconds of sign, verify, proof_gen and proof_verify with 12 messages of which 8 are
undisclosed (SHA-256 suite), for the fast (arkworks) and the reference (py-ecc) backend, and the
ratio between them. Targets with the fast backend: proof_gen ≤ 3 ms, proof_verify ≤ 5 ms.

Run: ``.venv/bin/python bench/bbs.py [--rounds N] [--reference-rounds N]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._machine import machine_lines, median
from ledger.crypto import bbs

MESSAGES = [f"attribute-{i}=value-{i}".encode() for i in range(12)]
DISCLOSED = [0, 3, 6, 9]  # 4 disclosed, 8 undisclosed
HEADER = b"consular-ledger/credential/v1"
PH = b"verifier-nonce-0123456789abcdef"
TARGETS = {"proof_gen": 3.0, "proof_verify": 5.0}


def _time(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up (generator cache, imports)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return median(samples)


def run(backend: str, rounds: int) -> dict[str, float]:
    sk = bbs.keygen(os.urandom(32))
    pk = bbs.sk_to_pk(sk, backend=backend)
    sig = bbs.sign(sk, pk, HEADER, MESSAGES, backend=backend)
    proof = bbs.proof_gen(pk, sig, HEADER, PH, MESSAGES, DISCLOSED, backend=backend)
    disclosed = [MESSAGES[i] for i in DISCLOSED]
    assert bbs.verify(pk, sig, HEADER, MESSAGES, backend=backend)
    assert bbs.proof_verify(pk, proof, HEADER, PH, disclosed, DISCLOSED, backend=backend)
    return {
        "sign": _time(lambda: bbs.sign(sk, pk, HEADER, MESSAGES, backend=backend), rounds),
        "verify": _time(lambda: bbs.verify(pk, sig, HEADER, MESSAGES, backend=backend), rounds),
        "proof_gen": _time(
            lambda: bbs.proof_gen(pk, sig, HEADER, PH, MESSAGES, DISCLOSED, backend=backend),
            rounds,
        ),
        "proof_verify": _time(
            lambda: bbs.proof_verify(pk, proof, HEADER, PH, disclosed, DISCLOSED, backend=backend),
            rounds,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="timed rounds, fast backend")
    parser.add_argument(
        "--reference-rounds", type=int, default=5, help="timed rounds, reference backend"
    )
    args = parser.parse_args()

    print("== BBS draft-09, BLS12-381-SHA-256: 12 messages, 8 undisclosed ==")
    for line in machine_lines(None):
        if not line.startswith(("sqlite", "postgresql")):
            print(line)
    u = len(MESSAGES) - len(DISCLOSED)
    print(
        f"sizes       sk 32 B, pk 96 B, signature {bbs.SIGNATURE_LENGTH} B, "
        f"proof {bbs.PROOF_BASE_LENGTH + bbs.SCALAR_LENGTH * u} B (272 + 32*{u})"
    )
    print()

    backends = bbs.available_backends()
    rounds = {bbs.FAST: args.rounds, bbs.REFERENCE: args.reference_rounds}
    results = {name: run(name, rounds[name]) for name in backends}
    header = f"{'operation':<14}" + "".join(
        f"{name + ' ms (n=' + str(rounds[name]) + ')':>24}" for name in backends
    )
    if len(backends) == 2:
        header += f"{'ratio':>10}{'target':>12}"
    print(header)
    for op in ("sign", "verify", "proof_gen", "proof_verify"):
        row = f"{op:<14}" + "".join(f"{results[name][op]:>24.2f}" for name in backends)
        if len(backends) == 2:
            ratio = results[bbs.REFERENCE][op] / results[bbs.FAST][op]
            target = TARGETS.get(op)
            verdict = ""
            if target is not None:
                met = results[bbs.FAST][op] <= target
                verdict = f"≤ {target:g} {'met' if met else 'MISSED'}"
            row += f"{ratio:>9.0f}x{verdict:>12}"
        print(row)


if __name__ == "__main__":
    main()
