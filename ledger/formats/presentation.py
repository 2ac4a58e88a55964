"""The QR payload of a credential presentation: ``"CL1:" + base45(zlib(CBOR map))``.

This is the EU Digital COVID Certificate pattern (``HC1:``) applied to a BBS proof: CBOR keeps
the structure small, zlib squeezes the repeated and textual parts, and base45 (RFC 9285) turns
the bytes into text from the QR alphanumeric set, so the whole string, prefix included, is one
alphanumeric QR segment (11 bits per 2 characters).

The CBOR map uses small integer keys to save bytes; every key is required and no other key is
allowed:

====  ======================  =================================================================
key   field                   CBOR type and rule
====  ======================  =================================================================
1     version                 unsigned int, must be 1 (the ``CL1:`` prefix says the same)
2     issuer_key_id           byte string or text string, 1..64 bytes (UTF-8 for text)
3     ciphersuite             unsigned int: 1 = BLS12-381-SHA-256, 2 = BLS12-381-SHAKE-256
4     schema_id               unsigned int < 2**32: which credential schema (attribute list)
5     schema_version          unsigned int < 2**32: which version of that schema
6     disclosed               map {attribute index (unsigned int): value (byte string)}
7     presentation_header     byte string, 0..256 bytes (verifier challenge or a timestamp)
8     proof                   byte string, 272 + 32*U bytes (BBS proof, U undisclosed messages)
====  ======================  =================================================================

The number of signed attributes is not sent: a BBS proof of draft-irtf-cfrg-bbs-signatures is
``Abar, Bbar, D`` (3 x 48) ``|| e^, r1^, r3^`` (3 x 32) ``|| m^_j`` (32 per undisclosed message)
``|| c`` (32), so ``L = len(disclosed) + (len(proof) - 272) / 32`` and every disclosed index
must be below ``L``. The verifier still checks ``L`` against the schema.

Decoding is strict: the CBOR must be exactly the canonical encoding (RFC 8949 §4.2.1, as the
encoder writes it), so a presentation has one byte string. The decompressed CBOR is capped at
:data:`MAX_CBOR_SIZE` bytes, which stops a decompression bomb before it costs memory. Every
failure raises :class:`PresentationFormatError` whose message starts with
``not a Consular Ledger presentation:`` (wrong prefix) or ``malformed presentation:`` (the rest).
Messages never quote attribute values.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType
from typing import Any

import cbor2

from ledger.errors import MalformedError
from ledger.formats._inflate import inflate
from ledger.formats.base45 import Base45Error, b45decode, b45encode

__all__ = [
    "MAX_CBOR_SIZE",
    "PREFIX",
    "Ciphersuite",
    "Presentation",
    "PresentationFormatError",
    "decode_presentation",
    "encode_presentation",
]

PREFIX = "CL1:"
VERSION = 1
MAX_CBOR_SIZE = 16 * 1024
"""Largest decompressed CBOR map accepted (and produced), in bytes."""

PROOF_BASE_SIZE = 272
"""Size of a BBS proof with no undisclosed message: 3 G1 points, 3 scalars and the challenge."""
PROOF_SCALAR_SIZE = 32
MAX_ISSUER_KEY_ID_SIZE = 64
MAX_HEADER_SIZE = 256
_MAX_UINT32 = 2**32 - 1

_KEY_VERSION = 1
_KEY_ISSUER = 2
_KEY_CIPHERSUITE = 3
_KEY_SCHEMA_ID = 4
_KEY_SCHEMA_VERSION = 5
_KEY_DISCLOSED = 6
_KEY_HEADER = 7
_KEY_PROOF = 8
_KEY_NAMES = {
    _KEY_VERSION: "version",
    _KEY_ISSUER: "issuer_key_id",
    _KEY_CIPHERSUITE: "ciphersuite",
    _KEY_SCHEMA_ID: "schema_id",
    _KEY_SCHEMA_VERSION: "schema_version",
    _KEY_DISCLOSED: "disclosed",
    _KEY_HEADER: "presentation_header",
    _KEY_PROOF: "proof",
}


class PresentationFormatError(MalformedError):
    """A presentation payload that does not follow the ``CL1:`` format."""


class Ciphersuite(IntEnum):
    """BBS ciphersuites of draft-irtf-cfrg-bbs-signatures, by their one-byte code in the payload."""

    BLS12_381_SHA_256 = 1
    BLS12_381_SHAKE_256 = 2


def _fail(reason: str) -> PresentationFormatError:
    return PresentationFormatError(f"malformed presentation: {reason}")


def _is_uint(value: object) -> bool:
    # bool is an int subclass in Python; CBOR true/false must not pass for 1/0.
    return type(value) is int and value >= 0


def _type_name(value: object) -> str:
    return type(value).__name__


@dataclass(frozen=True)
class Presentation:
    """One BBS presentation as carried in a QR code. Construction checks every format rule."""

    issuer_key_id: bytes | str
    ciphersuite: Ciphersuite
    schema_id: int
    schema_version: int
    disclosed: Mapping[int, bytes] = field(hash=False)
    """Disclosed attributes: index in the signed message list -> message bytes."""
    presentation_header: bytes
    proof: bytes
    version: int = VERSION

    def __post_init__(self) -> None:
        if not _is_uint(self.version) or self.version != VERSION:
            raise _fail(f"unsupported version {self.version!r}: expected {VERSION}")
        key_id = self.issuer_key_id
        if isinstance(key_id, str):
            key_id_size = len(key_id.encode("utf-8"))
        elif isinstance(key_id, bytes):
            key_id_size = len(key_id)
        else:
            raise _fail(f"issuer_key_id must be bytes or text, got {_type_name(key_id)}")
        if not 1 <= key_id_size <= MAX_ISSUER_KEY_ID_SIZE:
            raise _fail(
                f"issuer_key_id must be 1..{MAX_ISSUER_KEY_ID_SIZE} bytes, got {key_id_size}"
            )
        if not _is_uint(self.ciphersuite) and not isinstance(self.ciphersuite, Ciphersuite):
            raise _fail(f"ciphersuite must be an unsigned int, got {_type_name(self.ciphersuite)}")
        try:
            object.__setattr__(self, "ciphersuite", Ciphersuite(self.ciphersuite))
        except ValueError:
            codes = ", ".join(f"{c.value} ({c.name})" for c in Ciphersuite)
            raise _fail(
                f"unknown ciphersuite {self.ciphersuite}: expected one of {codes}"
            ) from None
        for name in ("schema_id", "schema_version"):
            value = getattr(self, name)
            if not _is_uint(value) or value > _MAX_UINT32:
                raise _fail(f"{name} must be an unsigned int below 2**32, got {value!r}")
        for name, limit in (("presentation_header", MAX_HEADER_SIZE), ("proof", None)):
            value = getattr(self, name)
            if not isinstance(value, bytes):
                raise _fail(f"{name} must be bytes, got {_type_name(value)}")
            if limit is not None and len(value) > limit:
                raise _fail(f"{name} must be at most {limit} bytes, got {len(value)}")
        extra = len(self.proof) - PROOF_BASE_SIZE
        if extra < 0 or extra % PROOF_SCALAR_SIZE:
            raise _fail(
                f"proof length {len(self.proof)} is not {PROOF_BASE_SIZE} + "
                f"{PROOF_SCALAR_SIZE}*k for an integer k >= 0"
            )
        if not isinstance(self.disclosed, Mapping):
            raise _fail(f"disclosed must be a map, got {_type_name(self.disclosed)}")
        total = len(self.disclosed) + extra // PROOF_SCALAR_SIZE
        for index, value in self.disclosed.items():
            if type(index) is not int:
                raise _fail(f"disclosed index must be an int, got {_type_name(index)}")
            if not 0 <= index < total:
                raise _fail(
                    f"disclosed index {index} out of range: expected 0..{total - 1} "
                    f"({len(self.disclosed)} disclosed + {total - len(self.disclosed)} "
                    "undisclosed by the proof length)"
                )
            if not isinstance(value, bytes):
                raise _fail(
                    f"disclosed value at index {index} must be bytes, got {_type_name(value)}"
                )
        object.__setattr__(
            self, "disclosed", MappingProxyType(dict(sorted(self.disclosed.items())))
        )

    @property
    def attribute_count(self) -> int:
        """L, the number of signed attributes, derived from the proof length and disclosures."""
        return len(self.disclosed) + (len(self.proof) - PROOF_BASE_SIZE) // PROOF_SCALAR_SIZE


def _to_cbor(p: Presentation) -> bytes:
    return cbor2.dumps(
        {
            _KEY_VERSION: p.version,
            _KEY_ISSUER: p.issuer_key_id,
            _KEY_CIPHERSUITE: int(p.ciphersuite),
            _KEY_SCHEMA_ID: p.schema_id,
            _KEY_SCHEMA_VERSION: p.schema_version,
            _KEY_DISCLOSED: dict(p.disclosed),
            _KEY_HEADER: p.presentation_header,
            _KEY_PROOF: p.proof,
        },
        canonical=True,
    )


def encode_presentation(p: Presentation) -> str:
    """The QR payload text for ``p``: ``CL1:`` + base45(zlib level 9(canonical CBOR))."""
    cbor = _to_cbor(p)
    if len(cbor) > MAX_CBOR_SIZE:
        raise _fail(f"CBOR is {len(cbor)} bytes, expected at most {MAX_CBOR_SIZE}")
    return PREFIX + b45encode(zlib.compress(cbor, 9))


def _check_prefix(text: str) -> str:
    if text.startswith(PREFIX):
        return text[len(PREFIX) :]
    head, sep, _ = text[:8].partition(":")
    if sep and head[:2] == "CL" and head[2:].isdigit():
        raise _fail(f"unsupported version {head[2:]} (prefix {head}:): expected {VERSION}")
    raise PresentationFormatError(
        f"not a Consular Ledger presentation: expected prefix {PREFIX}, got {text[:4]!r}"
    )


def _inflate(compressed: bytes) -> bytes:
    try:
        return inflate(compressed, MAX_CBOR_SIZE)
    except ValueError as exc:
        raise _fail(str(exc)) from None


def _load_cbor(cbor: bytes) -> Any:
    stream = io.BytesIO(cbor)
    try:
        obj = cbor2.CBORDecoder(
            stream, allow_duplicate_keys=False, allow_indefinite=False, max_depth=8
        ).decode()
    except cbor2.CBORDecodeError as exc:
        raise _fail(f"not CBOR ({exc})") from None
    if stream.tell() != len(cbor):
        raise _fail(f"{len(cbor) - stream.tell()} trailing bytes after the CBOR map")
    return obj


def _from_cbor(obj: Any) -> Presentation:
    if not isinstance(obj, dict):
        raise _fail(f"CBOR item must be a map, got {_type_name(obj)}")
    unknown = sorted(repr(k) for k in obj if not (type(k) is int and k in _KEY_NAMES))
    if unknown:
        raise _fail(f"unknown keys {', '.join(unknown)}: expected integer keys 1..8")
    missing = [f"{k} ({_KEY_NAMES[k]})" for k in _KEY_NAMES if k not in obj]
    if missing:
        raise _fail(f"missing keys {', '.join(missing)}")
    version = obj[_KEY_VERSION]
    if not _is_uint(version) or version != VERSION:
        raise _fail(f"unsupported version {version!r}: expected {VERSION}")
    for key in (_KEY_CIPHERSUITE, _KEY_SCHEMA_ID, _KEY_SCHEMA_VERSION):
        if not _is_uint(obj[key]):
            raise _fail(f"{_KEY_NAMES[key]} must be an unsigned int, got {_type_name(obj[key])}")
    for key in (_KEY_HEADER, _KEY_PROOF):
        if type(obj[key]) is not bytes:
            raise _fail(f"{_KEY_NAMES[key]} must be a byte string, got {_type_name(obj[key])}")
    if type(obj[_KEY_ISSUER]) not in (bytes, str):
        raise _fail(
            f"issuer_key_id must be a byte or text string, got {_type_name(obj[_KEY_ISSUER])}"
        )
    disclosed = obj[_KEY_DISCLOSED]
    if not isinstance(disclosed, dict):
        raise _fail(f"disclosed must be a map, got {_type_name(disclosed)}")
    for index, value in disclosed.items():
        if type(index) is not int:
            raise _fail(f"disclosed index must be an int, got {_type_name(index)}")
        if index < 0:
            raise _fail(f"disclosed index {index} is negative: expected an unsigned int")
        if type(value) is not bytes:
            raise _fail(f"disclosed value at index {index} must be a byte string")
    return Presentation(
        issuer_key_id=obj[_KEY_ISSUER],
        ciphersuite=obj[_KEY_CIPHERSUITE],
        schema_id=obj[_KEY_SCHEMA_ID],
        schema_version=obj[_KEY_SCHEMA_VERSION],
        disclosed=disclosed,
        presentation_header=obj[_KEY_HEADER],
        proof=obj[_KEY_PROOF],
        version=version,
    )


def decode_presentation(text: str) -> Presentation:
    """Parse a ``CL1:`` QR payload; raise :class:`PresentationFormatError` on any deviation.

    Checks, in order: prefix, base45, zlib (complete, no trailing data, size cap), CBOR (one
    item, no trailing bytes), the map's keys and types, the field rules of :class:`Presentation`,
    and finally that the CBOR is byte-for-byte the canonical encoding.
    """
    if not isinstance(text, str):
        raise PresentationFormatError(
            f"not a Consular Ledger presentation: expected text, got {_type_name(text)}"
        )
    body = _check_prefix(text)
    try:
        compressed = b45decode(body)
    except Base45Error as exc:
        raise _fail(f"bad base45 after {PREFIX} ({exc})") from None
    cbor = _inflate(compressed)
    presentation = _from_cbor(_load_cbor(cbor))
    if _to_cbor(presentation) != cbor:
        raise _fail("CBOR is not in canonical form (RFC 8949 §4.2.1 deterministic encoding)")
    return presentation
