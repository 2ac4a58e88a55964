"""Log entries: typed, versioned, signed statements with one canonical byte form.

An entry is the RFC 8785 (JCS) encoding of::

    {"v": 1, "type": "...", "time": "YYYY-MM-DDTHH:MM:SSZ", "actor": "<key id>",
     "body": {...}, "sig": "<base64>"}

The actor's Ed25519 signature covers the JCS bytes of the same object without ``sig``, so anyone
holding the entry can re-hash it and re-check the signature with no code of ours. The leaf of
the Merkle tree is exactly these canonical bytes.

Example::

    key = ActorKey.generate()
    entry = sign_entry("log.note", {"text": "opened"}, key)
    assert parse_entry(entry.encode()) == entry
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

from ledger.crypto.actor_keys import ActorKey
from ledger.errors import MalformedError, TooLargeError

__all__ = [
    "ENTRY_VERSION",
    "MAX_ENTRY_BYTES",
    "Entry",
    "entry_time",
    "format_time",
    "parse_entry",
    "sign_entry",
]

ENTRY_VERSION = 1
# 64 KiB less one byte: tlog-tiles entry bundles prefix each entry with a big-endian uint16 length.
MAX_ENTRY_BYTES = 64 * 1024 - 1
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_KEY_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_FIELDS = frozenset({"v", "type", "time", "actor", "body", "sig"})


def entry_time(text: str) -> datetime:
    """The moment an entry's ``time`` (already matching the pattern) names, in UTC."""
    try:
        return datetime(
            int(text[0:4]), int(text[5:7]), int(text[8:10]),
            int(text[11:13]), int(text[14:16]), int(text[17:19]), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        raise MalformedError(
            f"malformed entry: time {text!r} is not a real date and time"
        ) from None


def format_time(moment: datetime) -> str:
    """The entry time form: UTC, whole seconds, RFC 3339 with a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Entry:
    """One signed statement. ``body`` is treated as immutable JSON data."""

    type: str
    time: str
    actor: str
    body: Mapping[str, Any] = field(hash=False)
    sig: bytes

    def _unsigned(self) -> dict[str, Any]:
        return {
            "v": ENTRY_VERSION,
            "type": self.type,
            "time": self.time,
            "actor": self.actor,
            "body": self.body,
        }

    def signed_bytes(self) -> bytes:
        """The bytes the actor's signature covers: the canonical entry without ``sig``."""
        if not self.sig:
            return _canonical(self._unsigned())
        # Derived from the canonical form rather than canonicalised again (the hot path of
        # admission). In JCS the members keep their sorted order, and "sig" sits between
        # "body" and "time", so leaving it out removes exactly ',"sig":"…"'. Its last
        # occurrence is the top-level one: only "time", "type" and "v" follow it, and their
        # checked values cannot contain it. A test compares this with a fresh JCS encoding.
        encoded = self.encode()
        member = b',"sig":"' + base64.b64encode(self.sig) + b'"'
        at = encoded.rfind(member)
        return encoded[:at] + encoded[at + len(member) :]

    @functools.cached_property
    def _encoded(self) -> bytes:
        return _canonical({**self._unsigned(), "sig": base64.b64encode(self.sig).decode()})

    def encode(self) -> bytes:
        """The canonical bytes stored in the log (the Merkle leaf)."""
        return self._encoded


def sign_entry(
    entry_type: str, body: Mapping[str, Any], key: ActorKey, *, time: datetime | None = None
) -> Entry:
    """Make and sign an entry as ``key``'s holder. Checks the shape, not the type's body schema."""
    unsigned = Entry(
        type=entry_type,
        time=format_time(time or datetime.now(UTC)),
        actor=key.key_id,
        body=body,
        sig=b"",
    )
    _check_shape(unsigned)
    entry = Entry(
        unsigned.type,
        unsigned.time,
        unsigned.actor,
        unsigned.body,
        key.sign(unsigned.signed_bytes()),
    )
    _check_size(entry.encode(), MAX_ENTRY_BYTES)
    return entry


def parse_entry(data: bytes, *, max_size: int = MAX_ENTRY_BYTES) -> Entry:
    """Parse an entry from JSON bytes (canonical or not); strict about shape and size.

    Raises :class:`MalformedError` with a message saying what is wrong. The signature is not
    checked here (that needs the actor's key): see ``ledger.entries``.
    """
    _check_size(data, max_size)
    try:
        obj = json.loads(
            data,
            object_pairs_hook=_no_duplicate_keys,
            parse_float=_no_floats,
            parse_constant=_no_floats,
        )
    except UnicodeDecodeError:
        raise MalformedError("malformed entry: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise MalformedError(
            f"malformed entry: not JSON ({exc.msg} at position {exc.pos})"
        ) from None
    if not isinstance(obj, dict):
        raise MalformedError(f"malformed entry: expected a JSON object, got {type(obj).__name__}")
    missing, extra = _FIELDS - obj.keys(), obj.keys() - _FIELDS
    if missing or extra:
        raise MalformedError(
            "malformed entry: "
            + "; ".join(
                part
                for part in (
                    f"missing fields {sorted(missing)}" if missing else "",
                    f"unknown fields {sorted(extra)}" if extra else "",
                )
                if part
            )
        )
    if obj["v"] != ENTRY_VERSION or isinstance(obj["v"], bool):
        raise MalformedError(
            f"malformed entry: unsupported version {obj['v']!r}, expected {ENTRY_VERSION}"
        )
    sig_text = obj["sig"]
    if not isinstance(sig_text, str):
        raise MalformedError("malformed entry: sig must be a base64 string")
    try:
        sig = base64.b64decode(sig_text, validate=True)
    except binascii.Error:
        raise MalformedError("malformed entry: sig is not valid base64") from None
    if len(sig) != 64:
        raise MalformedError(f"malformed entry: sig must be 64 bytes, got {len(sig)}")
    entry = Entry(type=obj["type"], time=obj["time"], actor=obj["actor"], body=obj["body"], sig=sig)
    _check_shape(entry)
    _check_size(entry.encode(), max_size)
    return entry


def _check_shape(entry: Entry) -> None:
    if not isinstance(entry.type, str) or not _TYPE_RE.match(entry.type):
        raise MalformedError("malformed entry: type must look like 'area.name' (lower case)")
    if not isinstance(entry.time, str) or not _TIME_RE.match(entry.time):
        raise MalformedError(
            "malformed entry: time must be RFC 3339 UTC with seconds, like 2026-01-31T12:00:00Z"
        )
    entry_time(entry.time)
    if not isinstance(entry.actor, str) or not _KEY_ID_RE.match(entry.actor):
        raise MalformedError(
            "malformed entry: actor must be a key id of 32 lower-case hex characters"
        )
    if not isinstance(entry.body, dict):
        raise MalformedError("malformed entry: body must be a JSON object")


def _check_size(data: bytes, max_size: int) -> None:
    if len(data) > max_size:
        raise TooLargeError(f"entry too large: {len(data)} bytes, the limit is {max_size}")


def _canonical(obj: Any) -> bytes:
    """RFC 8785 bytes of ``obj``.

    For the common case — every object key ASCII, every integer within ±(2^53 − 1), no float —
    the standard library's C encoder with sorted keys and no whitespace writes exactly the JCS
    bytes (same key order, same escapes), several times faster; anything else goes to the
    ``rfc8785`` library. A property test compares the two on random documents.
    """
    if _simple(obj):
        try:
            return json.dumps(
                obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let the library give its error
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        raise MalformedError(f"malformed entry: cannot be canonicalised ({exc})") from None


_SAFE_INT = 2**53 - 1


def _simple(obj: Any) -> bool:
    """Whether JCS and ``json.dumps(sort_keys=True)`` agree on ``obj`` (see :func:`_canonical`)."""
    if isinstance(obj, str) or obj is None or isinstance(obj, bool):
        return True
    if isinstance(obj, int):
        return -_SAFE_INT <= obj <= _SAFE_INT
    if isinstance(obj, dict):
        return all(isinstance(k, str) and k.isascii() and _simple(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_simple(v) for v in obj)
    return False


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedError(f"malformed entry: duplicate key {key!r}")
        result[key] = value
    return result


def _no_floats(text: str) -> Any:
    raise MalformedError(f"malformed entry: non-integer number {text!r}; use integers or strings")
