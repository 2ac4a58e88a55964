"""Reference backend: pure Python on py-ecc. Slow and not constant-time.

Used to cross-check the fast backend and on platforms without the native wheel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from py_ecc.bls.hash_to_curve import clear_cofactor_G1, map_to_curve_G1
from py_ecc.bls.point_compression import (
    compress_G1,
    compress_G2,
    decompress_G1,
    decompress_G2,
)
from py_ecc.fields import optimized_bls12_381_FQ as FQ
from py_ecc.fields import optimized_bls12_381_FQ12 as FQ12
from py_ecc.optimized_bls12_381 import (
    G2,
    Z1,
    add,
    b2,
    curve_order,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    neg,
)
from py_ecc.optimized_bls12_381.optimized_pairing import miller_loop

from ._errors import BBSFormatError
from ._group import G1_LENGTH, G2_LENGTH, check_compressed

__all__ = ["ReferenceBackend"]


class ReferenceBackend:
    """BLS12-381 through py-ecc's optimized (Jacobian) pure-Python arithmetic."""

    name = "reference"

    def g1_decode(self, data: bytes) -> Any:
        if check_compressed(data, G1_LENGTH):
            return Z1
        try:
            point = decompress_G1(int.from_bytes(data, "big"))
        except ValueError:
            raise BBSFormatError("point is not on the curve") from None
        if not is_inf(multiply(point, curve_order)):
            raise BBSFormatError("point is not in the prime-order subgroup") from None
        return point

    def g1_encode(self, point: Any) -> bytes:
        return compress_G1(point).to_bytes(G1_LENGTH, "big")

    def g1_is_identity(self, point: Any) -> bool:
        return bool(is_inf(point))

    def g1_msm(self, points: Sequence[Any], scalars: Sequence[int]) -> Any:
        acc = Z1
        for point, scalar in zip(points, scalars, strict=True):
            if scalar:
                acc = add(acc, multiply(point, scalar))
        return acc

    def g1_map_to_curve(self, u0: int, u1: int) -> Any:
        return clear_cofactor_G1(add(map_to_curve_G1(FQ(u0)), map_to_curve_G1(FQ(u1))))

    def g2_decode(self, data: bytes) -> Any:
        if check_compressed(data, G2_LENGTH):
            return multiply(G2, 0)
        z1 = int.from_bytes(data[:G1_LENGTH], "big")
        z2 = int.from_bytes(data[G1_LENGTH:], "big")
        try:
            point = decompress_G2((z1, z2))
        except ValueError:
            raise BBSFormatError("point is not on the curve") from None
        if not is_on_curve(point, b2):
            raise BBSFormatError("point is not on the curve")
        if not is_inf(multiply(point, curve_order)):
            raise BBSFormatError("point is not in the prime-order subgroup")
        return point

    def g2_encode(self, point: Any) -> bytes:
        z1, z2 = compress_G2(point)
        return z1.to_bytes(G1_LENGTH, "big") + z2.to_bytes(G1_LENGTH, "big")

    def g2_is_identity(self, point: Any) -> bool:
        return bool(is_inf(point))

    def g2_generator_mul(self, scalar: int) -> Any:
        return multiply(G2, scalar)

    def g2_generator_neg(self) -> Any:
        return neg(G2)

    def pairing_product_is_one(self, pairs: Sequence[tuple[Any, Any]]) -> bool:
        # Product of Miller loops, then a single final exponentiation.
        acc = FQ12.one()
        for p, q in pairs:
            if is_inf(p) or is_inf(q):
                continue
            acc = acc * miller_loop(q, p, final_exponentiate=False)
        return final_exponentiate(acc) == FQ12.one()
