"""The draft's seeded "mocked" random scalars (draft Appendix: mocked_calculate_random_scalars).

Only for replaying the published test vectors: these scalars are public and MUST NOT be used to
make real proofs. Nothing outside the tests imports this module.
"""

from __future__ import annotations

from collections.abc import Callable

from ._ciphersuites import ciphersuite
from ._hashing import EXPAND_LEN, SCALAR_ORDER

__all__ = ["MOCK_SEED", "mocked_random_scalars", "seeded_random_scalars"]

MOCK_SEED = b"3.141592653589793238462643383279"
"""The seed the draft's proof fixtures use."""


def seeded_random_scalars(seed: bytes, dst: bytes, count: int, suite_name: str) -> list[int]:
    """seeded_random_scalars(SEED, count, dst): count scalars expanded from one seed."""
    suite = ciphersuite(suite_name)
    v = suite.expand_message(seed, dst, EXPAND_LEN * count)
    return [
        int.from_bytes(v[i * EXPAND_LEN : (i + 1) * EXPAND_LEN], "big") % SCALAR_ORDER
        for i in range(count)
    ]


def mocked_random_scalars(suite_name: str, seed: bytes = MOCK_SEED) -> Callable[[int], list[int]]:
    """A ``_random_scalars`` hook for :func:`proof_gen` replaying the draft's fixtures."""
    dst = ciphersuite(suite_name).api_id + b"MOCK_RANDOM_SCALARS_DST_"

    def draw(count: int) -> list[int]:
        return seeded_random_scalars(seed, dst, count, suite_name)

    return draw
