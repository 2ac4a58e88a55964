"""Fast backend: py-arkworks-bls12381 (Rust arkworks bindings).

Chosen over pyblst because it offers everything BBS needs natively: multi-scalar
multiplication, the SSWU map from field elements (needed for the SHAKE-256 suite), explicit
subgroup checks, scalar arithmetic and a multi-pairing check (see docs/bbs.md for figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from ._errors import BBSFormatError
from ._group import G1_LENGTH, G2_LENGTH, check_compressed

__all__ = ["FastBackend"]


def _scalar(value: int) -> Scalar:
    # from_be_bytes is ~15x faster than Scalar(int) in this binding; value is already < r.
    return Scalar.from_be_bytes(value.to_bytes(32, "big"))


class FastBackend:
    """BLS12-381 through arkworks."""

    name = "fast"

    def __init__(self) -> None:
        self._g2 = G2Point()
        self._g2_neg = -self._g2
        self._g1_identity = G1Point.identity()
        self._g2_identity = G2Point.identity()

    def g1_decode(self, data: bytes) -> Any:
        if check_compressed(data, G1_LENGTH):
            return self._g1_identity
        try:
            return G1Point.from_compressed_bytes(data)
        except ValueError:
            pass
        try:
            G1Point.from_compressed_bytes_unchecked(data)
        except ValueError:
            raise BBSFormatError("point is not on the curve") from None
        raise BBSFormatError("point is not in the prime-order subgroup")

    def g1_encode(self, point: Any) -> bytes:
        return bytes(point.to_compressed_bytes())

    def g1_is_identity(self, point: Any) -> bool:
        return bool(point == self._g1_identity)

    def g1_msm(self, points: Sequence[Any], scalars: Sequence[int]) -> Any:
        if len(points) != len(scalars):
            raise ValueError("g1_msm: points and scalars differ in length")
        if len(points) == 1:
            return points[0] * _scalar(scalars[0])
        return G1Point.multiexp_unchecked(list(points), [_scalar(s) for s in scalars])

    def g1_map_to_curve(self, u0: int, u1: int) -> Any:
        # arkworks' map_from_fp applies the SSWU map, the isogeny and cofactor clearing;
        # clearing is linear, so clear(m0) + clear(m1) == clear(m0 + m1).
        return G1Point.map_from_fp_be(u0.to_bytes(G1_LENGTH, "big")) + G1Point.map_from_fp_be(
            u1.to_bytes(G1_LENGTH, "big")
        )

    def g2_decode(self, data: bytes) -> Any:
        if check_compressed(data, G2_LENGTH):
            return self._g2_identity
        try:
            return G2Point.from_compressed_bytes(data)
        except ValueError:
            pass
        try:
            G2Point.from_compressed_bytes_unchecked(data)
        except ValueError:
            raise BBSFormatError("point is not on the curve") from None
        raise BBSFormatError("point is not in the prime-order subgroup")

    def g2_encode(self, point: Any) -> bytes:
        return bytes(point.to_compressed_bytes())

    def g2_is_identity(self, point: Any) -> bool:
        return bool(point == self._g2_identity)

    def g2_generator_mul(self, scalar: int) -> Any:
        return self._g2 * _scalar(scalar)

    def g2_generator_neg(self) -> Any:
        return self._g2_neg

    def pairing_product_is_one(self, pairs: Sequence[tuple[Any, Any]]) -> bool:
        return bool(GT.pairing_check([p for p, _ in pairs], [q for _, q in pairs]))
