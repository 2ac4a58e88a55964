"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures (type 0x01).

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(key id (4 bytes) || signature)``. The signature covers the text including
its final newline. A verifier key is written ``name+hex(key id)+base64(0x01 || public key)``,
with ``key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]``.

Verification policy (as the spec requires or recommends): signatures from keys we do not know
— by (name, key id) pair — are ignored; a known key's signature that fails rejects the note; at
least one known key must sign. At most :data:`MAX_SIGNATURES` lines are accepted (the spec asks
for at least 16; Go's golang.org/x/mod/sumdb/note uses the same limit of 100).

Errors: :class:`NoteError` ("malformed note: …", "malformed verifier key: …") for anything
that does not parse, :class:`~ledger.errors.VerificationError` ("note verification failed: …")
for signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ledger.errors import MalformedError, VerificationError

__all__ = [
    "ED25519_TYPE",
    "MAX_SIGNATURES",
    "Note",
    "NoteError",
    "Verifier",
    "format_vkey",
    "key_id",
    "parse_note",
    "parse_private_key",
    "parse_vkey",
    "sign_note",
    "verify_note",
]

ED25519_TYPE = 0x01
MAX_SIGNATURES = 100
_DASH = "\u2014 "  # em dash, space
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SPACE_RE = re.compile(r"\s")
_HEX8_RE = re.compile(r"^[0-9a-f]{8}$")


class NoteError(MalformedError):
    """A note or key that does not follow the signed-note format."""


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: right alphabet, padding, and canonical (re-encodes identically)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: bad base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what}: non-canonical base64")
    return raw


def _check_name(name: str, what: str) -> None:
    if not name:
        raise NoteError(f"{what}: empty key name")
    if _SPACE_RE.search(name) or "+" in name:
        raise NoteError(f"{what}: key name {name!r} contains a space or '+'")
    if _CONTROL_RE.search(name) or "\n" in name:
        raise NoteError(f"{what}: key name contains a control character")


def key_id(name: str, public_key: bytes, key_type: int = ED25519_TYPE) -> bytes:
    """The 4-byte key id ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    if not 0 <= key_type <= 0xFF:
        raise NoteError(f"malformed verifier key: key type {key_type} is not a byte")
    data = name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key
    return hashlib.sha256(data).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 note key: its name, key id and 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def vkey(self) -> str:
        """The text form ``name+hex(id)+base64(0x01||key)``."""
        return format_vkey(self.name, self.public_key)


def format_vkey(name: str, public_key: bytes) -> str:
    """The verifier key text ``name+hex(key id)+base64(0x01 || public key)``."""
    _check_name(name, "malformed verifier key")
    if len(public_key) != 32:
        raise NoteError(f"malformed verifier key: expected 32-byte key, got {len(public_key)}")
    encoded = base64.b64encode(bytes([ED25519_TYPE]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_vkey(vkey: str) -> Verifier:
    """Parse a verifier key; checks the name rules, the type byte and the recomputed key id."""
    parts = vkey.split("+", 2)  # the base64 key itself may contain '+'
    if len(parts) != 3:
        raise NoteError(
            f"malformed verifier key: expected 3 '+'-separated fields, got {len(parts)}"
        )
    name, hex_id, encoded = parts
    _check_name(name, "malformed verifier key")
    if not _HEX8_RE.fullmatch(hex_id):
        raise NoteError(f"malformed verifier key: key id {hex_id!r} is not 8 lower-case hex digits")
    raw = _b64decode(encoded, "malformed verifier key")
    if len(raw) != 33 or raw[0] != ED25519_TYPE:
        raise NoteError(
            f"malformed verifier key: expected 0x01 || 32-byte Ed25519 key, got {len(raw)} bytes"
            f" of type {raw[0] if raw else 'none'}"
        )
    public_key = raw[1:]
    expected = key_id(name, public_key)
    if expected.hex() != hex_id:
        raise NoteError(f"malformed verifier key: key id {hex_id} != computed {expected.hex()}")
    return Verifier(name=name, key_id=expected, public_key=public_key)


def parse_private_key(skey: str) -> tuple[str, bytes]:
    """Parse a Go-style ``PRIVATE+KEY+name+hex(id)+base64(0x01 || seed)``; return (name, seed).

    For tests and key import. The key id is checked against the public key derived from the
    seed. Messages never include key material.
    """
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("malformed private key: expected PRIVATE+KEY+name+id+key")
    name, hex_id, encoded = parts[2:]
    _check_name(name, "malformed private key")
    raw = _b64decode(encoded, "malformed private key")
    if len(raw) != 33 or raw[0] != ED25519_TYPE:
        raise NoteError("malformed private key: expected 0x01 || 32-byte Ed25519 seed")
    seed = raw[1:]
    public_key = bytes(SigningKey(seed).verify_key)
    if key_id(name, public_key).hex() != hex_id:
        raise NoteError("malformed private key: key id does not match the key")
    return name, seed


def _check_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what}: not valid UTF-8") from None
    if _CONTROL_RE.search(text):
        raise NoteError(f"{what}: contains an ASCII control character other than newline")


def sign_note(text: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """Sign ``text`` (which must end with a newline) and return the full signed note.

    ``sign`` returns the 64-byte Ed25519 signature of its argument (the private key stays with
    the caller). The signature is checked against ``public_key`` before returning, so a
    mismatched key pair fails here instead of producing a note nobody can verify.
    """
    _check_text(text, "malformed note")
    if not text.endswith("\n"):
        raise NoteError("malformed note: text must end with a newline")
    _check_name(name, "malformed note")
    if len(public_key) != 32:
        raise NoteError(f"malformed note: expected 32-byte public key, got {len(public_key)}")
    message = text.encode("utf-8")
    signature = sign(message)
    if len(signature) != 64:
        raise NoteError(f"malformed note: signer returned {len(signature)} bytes, expected 64")
    try:
        VerifyKey(public_key).verify(message, signature)
    except BadSignatureError:
        raise VerificationError(
            "note signing failed: signature does not match public key"
        ) from None
    blob = base64.b64encode(key_id(name, public_key) + signature).decode("ascii")
    return f"{text}\n{_DASH}{name} {blob}\n"


@dataclass(frozen=True)
class Note:
    """A parsed (not yet verified) note: its text and its (name, key id, signature) lines."""

    text: str
    signatures: list[tuple[str, bytes, bytes]]


def _decode(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            return note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("malformed note: not valid UTF-8") from None
    return note


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into its text and signature lines, checking the format strictly.

    Accepts ``bytes`` too (decoded as strict UTF-8). Does not verify anything.
    """
    note = _decode(note)
    _check_text(note, "malformed note")
    if not note.endswith("\n"):
        raise NoteError("malformed note: does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")[:-1]  # block ends with "\n"
    if not lines:
        raise NoteError("malformed note: no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: {len(lines)} signatures, limit is {MAX_SIGNATURES}")
    signatures: list[tuple[str, bytes, bytes]] = []
    for number, line in enumerate(lines, 1):
        if not line.startswith(_DASH):
            raise NoteError(f"malformed note: signature line {number} does not start with '— '")
        name, sep, encoded = line[len(_DASH) :].partition(" ")
        if not sep:
            raise NoteError(f"malformed note: signature line {number} has no signature")
        _check_name(name, f"malformed note: signature line {number}")
        raw = _b64decode(encoded, f"malformed note: signature line {number}")
        if len(raw) < 5:
            raise NoteError(f"malformed note: signature line {number} is shorter than 5 bytes")
        signatures.append((name, raw[:4], raw[4:]))
    return Note(text=text, signatures=signatures)


def verify_note(note: str | bytes, verifiers: Sequence[Verifier]) -> str:
    """Verify a signed note against trusted keys and return its text.

    Raises :class:`VerificationError` unless at least one known key's signature verifies, and
    if any known key's signature fails. Signatures by unknown (name, key id) pairs are ignored.
    """
    parsed = parse_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = parsed.text.encode("utf-8")
    verified = 0
    for name, kid, signature in parsed.signatures:
        verifier = known.get((name, kid))
        if verifier is None:
            continue
        label = f"{name}+{kid.hex()}"
        if len(signature) != 64:
            raise VerificationError(
                f"note verification failed: signature by {label} is {len(signature)} bytes, not 64"
            )
        try:
            VerifyKey(verifier.public_key).verify(message, signature)
        except BadSignatureError:
            raise VerificationError(
                f"note verification failed: bad signature by known key {label}"
            ) from None
        verified += 1
    if not verified:
        raise VerificationError("note verification failed: no signature by a known key")
    return parsed.text
