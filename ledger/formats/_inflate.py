"""Bounded zlib decompression for the formats that carry compressed data (QR payloads, offers,
status lists): a small input must not be able to expand into a large allocation."""

from __future__ import annotations

import zlib

__all__ = ["inflate"]


def inflate(data: bytes, limit: int) -> bytes:
    """Decompress one whole zlib stream of at most ``limit`` bytes.

    Raises ValueError with a message saying what is wrong: corrupt data, more than ``limit``
    bytes, a stream that does not end, or bytes after its end.
    """
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"corrupt zlib data ({exc})") from None
    if len(out) > limit:
        raise ValueError(f"decompressed size exceeds the limit of {limit} bytes")
    if not inflater.eof:
        raise ValueError("truncated zlib data: the compressed stream does not end")
    if inflater.unused_data:
        raise ValueError(f"{len(inflater.unused_data)} trailing bytes after the zlib stream")
    return out
