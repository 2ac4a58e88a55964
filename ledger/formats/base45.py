"""Base45 (RFC 9285): bytes as text drawn from the QR code alphanumeric character set.

QR alphanumeric mode packs two characters into 11 bits, so base45 text costs about 8.25 bits per
input byte in a QR code, less than byte mode would spend on base64 (8 bits per 6 input bits).
This is why the EU Digital COVID Certificate and our presentation payloads use it.

Encoding (RFC 9285 §4.2): each pair of bytes ``a, b`` becomes ``n = a*256 + b``, written as the
three characters ``c d e`` with ``n = c + d*45 + e*45**2``; a final single byte becomes two
characters ``c d`` with ``n = c + d*45``. Decoding is the exact inverse and, as §4.4 requires,
fails on a character outside the alphabet, a final group of one character, and a group whose
value does not fit its bytes (above 65535 for three characters, above 255 for two).
"""

from __future__ import annotations

from ledger.errors import MalformedError

__all__ = ["ALPHABET", "Base45Error", "b45decode", "b45encode"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {char: value for value, char in enumerate(ALPHABET)}


class Base45Error(MalformedError):
    """Text that is not valid base45; every message starts with ``malformed base45:``."""


def b45encode(data: bytes) -> str:
    """Encode ``data`` as base45 text (3 characters per 2 bytes, 2 for a final odd byte)."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode base45 ``text``; raise :class:`Base45Error` on anything RFC 9285 §4.4 rejects."""
    if len(text) % 3 == 1:
        raise Base45Error(
            f"malformed base45: length {len(text)} leaves a dangling single character "
            "(expected a length of 3k or 3k+2)"
        )
    values: list[int] = []
    for position, char in enumerate(text):
        value = _VALUE.get(char)
        if value is None:
            raise Base45Error(
                f"malformed base45: invalid character {char!r} at position {position} "
                "(expected 0-9, A-Z, space or one of $%*+-./:)"
            )
        values.append(value)
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(group))
        if len(group) == 3:
            if n > 0xFFFF:
                raise Base45Error(
                    f"malformed base45: group {text[i : i + 3]!r} at position {i} has value {n}, "
                    "expected at most 65535"
                )
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise Base45Error(
                    f"malformed base45: final group {text[i : i + 2]!r} at position {i} has "
                    f"value {n}, expected at most 255"
                )
            out.append(n)
    return bytes(out)
