"""The small group interface both backends implement, and the encoding rules they share.

Points are opaque backend objects; scalars are Python ints already reduced modulo r. The
ZCash compressed encoding is checked for canonical form here, once for both backends, so that
both reject exactly the same byte strings; the backend only decides "on the curve" and "in the
prime-order subgroup".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ._errors import BBSFormatError
from ._hashing import FIELD_MODULUS

__all__ = [
    "G1_LENGTH",
    "G2_LENGTH",
    "Backend",
    "check_compressed",
]

G1_LENGTH = 48
G2_LENGTH = 96

_C_FLAG = 0x80  # compressed form
_B_FLAG = 0x40  # point at infinity
_A_FLAG = 0x20  # sign of y


def check_compressed(data: bytes, length: int) -> bool:
    """Check a compressed G1 (48-byte) or G2 (96-byte) encoding for canonical form.

    Returns True for the canonical encoding of the identity, False for any other canonical
    encoding (whose x coordinate(s) are then below p). Raises :class:`BBSFormatError` with the
    reason otherwise. Whether the point is on the curve is left to the backend.
    """
    if len(data) != length:
        raise BBSFormatError(f"expected {length} bytes, got {len(data)}")
    flags = data[0]
    if not flags & _C_FLAG:
        raise BBSFormatError("expected the compressed form (top bit set)")
    if flags & _B_FLAG:
        if flags & _A_FLAG or any(data[1:]) or flags & 0x1F:
            raise BBSFormatError("non-canonical encoding of the identity")
        return True
    half = G1_LENGTH
    x_first = int.from_bytes(bytes([flags & 0x1F]) + data[1:half], "big")
    if x_first >= FIELD_MODULUS:
        raise BBSFormatError("x coordinate is not below the field modulus")
    if length == G2_LENGTH and int.from_bytes(data[half:], "big") >= FIELD_MODULUS:
        raise BBSFormatError("x coordinate is not below the field modulus")
    return False


class Backend(Protocol):
    """The operations BBS needs from BLS12-381. Points are opaque; scalars are ints mod r."""

    name: str

    def g1_decode(self, data: bytes) -> Any:
        """A G1 point from its 48-byte compressed form; on curve and in G1, identity allowed."""
        ...

    def g1_encode(self, point: Any) -> bytes:
        """The 48-byte compressed form."""
        ...

    def g1_is_identity(self, point: Any) -> bool: ...

    def g1_msm(self, points: Sequence[Any], scalars: Sequence[int]) -> Any:
        """Sum of points[i] * scalars[i] (the multi-scalar multiplication)."""
        ...

    def g1_map_to_curve(self, u0: int, u1: int) -> Any:
        """clear_cofactor(map_to_curve(u0) + map_to_curve(u1)): the tail of hash_to_curve."""
        ...

    def g2_decode(self, data: bytes) -> Any:
        """A G2 point from its 96-byte compressed form; on curve and in G2, identity allowed."""
        ...

    def g2_encode(self, point: Any) -> bytes: ...

    def g2_is_identity(self, point: Any) -> bool: ...

    def g2_generator_mul(self, scalar: int) -> Any:
        """BP2 * scalar."""
        ...

    def g2_generator_neg(self) -> Any:
        """-BP2."""
        ...

    def pairing_product_is_one(self, pairs: Sequence[tuple[Any, Any]]) -> bool:
        """Whether the product of e(P, Q) over the (G1, G2) pairs is the identity of GT."""
        ...
