"""Signed revocation and suspension status lists: one bit per credential status index.

Bit layout: entry ``i`` is bit ``7 - i % 8`` of byte ``i // 8``, i.e. the most significant bit
of byte 0 is index 0 (the W3C Bitstring Status List v1.0 order, "left-most bit first"; note that
the IETF Token Status List counts from the least significant bit instead). A set bit means
revoked (or suspended, for a ``suspension`` list). The list has at least 2**17 entries, the
herd-privacy minimum W3C recommends, so one index says little about who holds it.

Document: the RFC 8785 (JCS) canonical JSON object::

    {"bits": base64url(zlib(bits)), "format": "consular-ledger/status-list/v1",
     "issued_at": "YYYY-MM-DDTHH:MM:SSZ", "issuer_key_id": "...", "list_id": "...",
     "purpose": "revocation" | "suspension", "signature": base64url(Ed25519 signature),
     "size": N, "version": n}

base64url is RFC 4648 §5 without padding. The signature covers the JCS bytes of the same object
without ``signature``; the ``format`` member separates these signatures from anything else the
same key signs. Decoding accepts only the canonical bytes (one document, one byte string), checks
every shape rule first (:class:`StatusListError`, a :class:`MalformedError`), inflating at most
``size / 8`` bytes so a decompression bomb costs nothing, then verifies the signature
(:class:`VerificationError`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import rfc8785
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ledger.errors import MalformedError, VerificationError
from ledger.formats._inflate import inflate

__all__ = [
    "DEFAULT_SIZE",
    "FORMAT",
    "MAX_SIZE",
    "MIN_SIZE",
    "Purpose",
    "StatusList",
    "StatusListError",
    "decode_status_list",
    "encode_status_list",
    "get_status",
    "new_bits",
    "set_status",
]

FORMAT = "consular-ledger/status-list/v1"
MIN_SIZE = 2**17
DEFAULT_SIZE = MIN_SIZE
MAX_SIZE = 2**24
"""Largest list accepted: 16 Mi entries, 2 MiB of raw bits."""
MAX_ID_LENGTH = 128
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024

Purpose = Literal["revocation", "suspension"]
_PURPOSES: tuple[str, ...] = get_args(Purpose)
_FIELDS = frozenset(
    {
        "bits",
        "format",
        "issued_at",
        "issuer_key_id",
        "list_id",
        "purpose",
        "signature",
        "size",
        "version",
    }
)
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_ID_RE = re.compile(r"^[\x21-\x7e]+$")
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")
_MAX_SAFE_INT = 2**53 - 1


class StatusListError(MalformedError):
    """A status list document or index that breaks a format rule."""


def _fail(reason: str) -> StatusListError:
    return StatusListError(f"malformed status list: {reason}")


def _check_size(size: object) -> int:
    if type(size) is not int:
        raise _fail(f"size must be an integer, got {type(size).__name__}")
    if not MIN_SIZE <= size <= MAX_SIZE or size % 8:
        raise _fail(f"size must be a multiple of 8 in {MIN_SIZE}..{MAX_SIZE}, got {size}")
    return size


def _check_index(bits: bytes, index: int) -> None:
    if type(index) is not int or not 0 <= index < 8 * len(bits):
        raise _fail(f"index {index!r} out of range: expected 0..{8 * len(bits) - 1}")


def new_bits(size: int = DEFAULT_SIZE) -> bytes:
    """A list of ``size`` entries, all valid (every bit clear)."""
    return bytes(_check_size(size) // 8)


def get_status(bits: bytes, index: int) -> bool:
    """True if entry ``index`` is set (revoked or suspended). Index 0 is the MSB of byte 0."""
    _check_index(bits, index)
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def set_status(bits: bytes, index: int, value: bool) -> bytes:
    """A copy of ``bits`` with entry ``index`` set to ``value``."""
    _check_index(bits, index)
    out = bytearray(bits)
    mask = 0x80 >> (index % 8)
    if value:
        out[index // 8] |= mask
    else:
        out[index // 8] &= ~mask & 0xFF
    return bytes(out)


def _check_id(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise _fail(f"{name} must be a string, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_ID_LENGTH or not _ID_RE.match(value):
        raise _fail(f"{name} must be 1..{MAX_ID_LENGTH} printable ASCII characters, no spaces")
    return value


def _check_time(value: object) -> str:
    if not isinstance(value, str) or not _TIME_RE.match(value):
        raise _fail(f"issued_at must be RFC 3339 UTC 'YYYY-MM-DDTHH:MM:SSZ', got {value!r}")
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise _fail(f"issued_at is not a real date and time: {value!r}") from None
    return value


@dataclass(frozen=True)
class StatusList:
    """The content of one status list version; construction checks every field rule."""

    list_id: str
    issuer_key_id: str
    purpose: Purpose
    version: int
    issued_at: str
    bits: bytes
    size: int = DEFAULT_SIZE

    def __post_init__(self) -> None:
        _check_id("list_id", self.list_id)
        _check_id("issuer_key_id", self.issuer_key_id)
        if self.purpose not in _PURPOSES:
            raise _fail(f"purpose must be one of {', '.join(_PURPOSES)}, got {self.purpose!r}")
        if type(self.version) is not int or not 0 <= self.version <= _MAX_SAFE_INT:
            raise _fail(f"version must be an integer in 0..2**53-1, got {self.version!r}")
        _check_time(self.issued_at)
        _check_size(self.size)
        if not isinstance(self.bits, bytes):
            raise _fail(f"bits must be bytes, got {type(self.bits).__name__}")
        if len(self.bits) != self.size // 8:
            raise _fail(f"bits hold {len(self.bits)} bytes, expected size/8 = {self.size // 8}")

    def is_set(self, index: int) -> bool:
        """The status of entry ``index`` (see :func:`get_status`)."""
        return get_status(self.bits, index)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(name: str, text: object) -> bytes:
    if not isinstance(text, str) or not _B64URL_RE.match(text) or len(text) % 4 == 1:
        raise _fail(f"{name} must be unpadded base64url text")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _fail(f"{name} must be unpadded base64url text") from None
    if _b64url(data) != text:
        raise _fail(f"{name} is not canonical base64url (non-zero padding bits)")
    return data


def _unsigned_object(sl: StatusList) -> dict[str, Any]:
    return {
        "bits": _b64url(zlib.compress(sl.bits, 9)),
        "format": FORMAT,
        "issued_at": sl.issued_at,
        "issuer_key_id": sl.issuer_key_id,
        "list_id": sl.list_id,
        "purpose": sl.purpose,
        "size": sl.size,
        "version": sl.version,
    }


def encode_status_list(sl: StatusList, sign: Callable[[bytes], bytes]) -> bytes:
    """The signed document: JCS JSON, with ``sign`` (an Ed25519 signer) over the unsigned JCS."""
    unsigned = _unsigned_object(sl)
    signature = sign(rfc8785.dumps(unsigned))
    if not isinstance(signature, bytes) or len(signature) != 64:
        raise _fail("sign() must return a 64-byte Ed25519 signature")
    return rfc8785.dumps({**unsigned, "signature": _b64url(signature)})


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _fail(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise _fail(f"non-finite number {name} is not JSON")


def _parse(data: bytes) -> dict[str, Any]:
    if not isinstance(data, bytes):
        raise _fail(f"document must be bytes, got {type(data).__name__}")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _fail(f"document is {len(data)} bytes, expected at most {MAX_DOCUMENT_BYTES}")
    try:
        obj = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
        )
    except UnicodeDecodeError:
        raise _fail("document is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise _fail(f"not JSON ({exc.msg} at offset {exc.pos})") from None
    if not isinstance(obj, dict):
        raise _fail(f"document must be a JSON object, got {type(obj).__name__}")
    missing = sorted(_FIELDS - obj.keys())
    if missing:
        raise _fail(f"missing members {', '.join(missing)}")
    unknown = sorted(obj.keys() - _FIELDS)
    if unknown:
        raise _fail(f"unknown members {', '.join(map(repr, unknown))}")
    if obj["format"] != FORMAT:
        raise _fail(f"format must be {FORMAT!r}, got {obj['format']!r}")
    try:
        canonical = rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        raise _fail(f"value outside the JSON canonical domain ({exc})") from None
    if canonical != data:
        raise _fail("document is not RFC 8785 canonical JSON")
    return obj


def _inflate_bits(compressed: bytes, size: int) -> bytes:
    expected = size // 8
    try:
        bits = inflate(compressed, expected)
    except ValueError as exc:
        raise _fail(f"bits: {exc}") from None
    if len(bits) != expected:
        raise _fail(f"bits inflate to {len(bits)} bytes, expected size/8 = {expected}")
    return bits


def decode_status_list(data: bytes, public_key: bytes) -> StatusList:
    """Parse and verify a signed status list document against the issuer's Ed25519 key."""
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise MalformedError("malformed public key: expected 32 bytes")
    obj = _parse(data)
    signature = _unb64url("signature", obj["signature"])
    if len(signature) != 64:
        raise _fail(f"signature must be 64 bytes, got {len(signature)}")
    size = _check_size(obj["size"])
    bits = _inflate_bits(_unb64url("bits", obj["bits"]), size)
    status_list = StatusList(
        list_id=obj["list_id"],
        issuer_key_id=obj["issuer_key_id"],
        purpose=obj["purpose"],
        version=obj["version"],
        issued_at=obj["issued_at"],
        bits=bits,
        size=size,
    )
    unsigned = {k: v for k, v in obj.items() if k != "signature"}
    try:
        VerifyKey(public_key).verify(rfc8785.dumps(unsigned), signature)
    except BadSignatureError:
        raise VerificationError(
            "status list signature does not verify for the issuer key"
        ) from None
    return status_list
