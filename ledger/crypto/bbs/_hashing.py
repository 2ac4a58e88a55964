"""Hashing primitives shared by both backends: RFC 9380 expanders and hash-to-scalar/field.

Kept free of any curve library so that the reference and the fast backend hash identically;
only the final map from field elements to the curve is backend-specific.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ._errors import BBSFormatError

__all__ = [
    "EXPAND_LEN",
    "FIELD_MODULUS",
    "SCALAR_ORDER",
    "expand_message_xmd_sha256",
    "expand_message_xof_shake256",
    "hash_to_field_fp",
    "hash_to_scalar",
]

FIELD_MODULUS = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)
"""p, the characteristic of the BLS12-381 base field."""

SCALAR_ORDER = int("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)
"""r, the prime order of G1, G2 and GT."""

EXPAND_LEN = 48
"""Bytes expanded per scalar: ceil((ceil(log2(r)) + 128) / 8), draft §7."""

_FP_EXPAND_LEN = 64  # RFC 9380 L for BLS12-381 G1: ceil((381 + 128) / 8)


def _check_dst(dst: bytes) -> None:
    if len(dst) > 255:
        raise BBSFormatError(f"malformed dst: expected at most 255 bytes, got {len(dst)}")


def expand_message_xmd_sha256(msg: bytes, dst: bytes, len_in_bytes: int) -> bytes:
    """RFC 9380 §5.3.1 expand_message_xmd with SHA-256."""
    _check_dst(dst)
    b_in_bytes = 32
    ell = -(-len_in_bytes // b_in_bytes)
    if ell > 255 or len_in_bytes > 65535:
        raise BBSFormatError(f"expand_message_xmd: cannot expand to {len_in_bytes} bytes")
    dst_prime = dst + bytes([len(dst)])
    msg_prime = bytes(64) + msg + len_in_bytes.to_bytes(2, "big") + b"\x00" + dst_prime
    b_0 = hashlib.sha256(msg_prime).digest()
    b_i = hashlib.sha256(b_0 + b"\x01" + dst_prime).digest()
    out = [b_i]
    b_0_int = int.from_bytes(b_0, "big")
    for i in range(2, ell + 1):
        mixed = (b_0_int ^ int.from_bytes(b_i, "big")).to_bytes(b_in_bytes, "big")
        b_i = hashlib.sha256(mixed + bytes([i]) + dst_prime).digest()
        out.append(b_i)
    return b"".join(out)[:len_in_bytes]


def expand_message_xof_shake256(msg: bytes, dst: bytes, len_in_bytes: int) -> bytes:
    """RFC 9380 §5.3.2 expand_message_xof with SHAKE-256."""
    _check_dst(dst)
    if len_in_bytes > 65535:
        raise BBSFormatError(f"expand_message_xof: cannot expand to {len_in_bytes} bytes")
    msg_prime = msg + len_in_bytes.to_bytes(2, "big") + dst + bytes([len(dst)])
    return hashlib.shake_256(msg_prime).digest(len_in_bytes)


Expander = Callable[[bytes, bytes, int], bytes]


def hash_to_scalar(msg: bytes, dst: bytes, expand_message: Expander) -> int:
    """Draft §4.2.1 hash_to_scalar: 48 uniform bytes reduced modulo r."""
    return int.from_bytes(expand_message(msg, dst, EXPAND_LEN), "big") % SCALAR_ORDER


def hash_to_field_fp(msg: bytes, dst: bytes, expand_message: Expander) -> tuple[int, int]:
    """RFC 9380 §5.2 hash_to_field for the G1 base field with count = 2 (the "RO" encoding)."""
    uniform = expand_message(msg, dst, 2 * _FP_EXPAND_LEN)
    u0 = int.from_bytes(uniform[:_FP_EXPAND_LEN], "big") % FIELD_MODULUS
    u1 = int.from_bytes(uniform[_FP_EXPAND_LEN:], "big") % FIELD_MODULUS
    return u0, u1
