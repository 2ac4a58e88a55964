"""The entry-type registry and the checks an entry passes before it is sequenced.

Each entry type names a body schema (a strict pydantic model: no unknown fields, no type
coercion) and, optionally, a rule for which actors may write it. Adding a type is one
:func:`register` call next to its schema; the admission checks below are the same for all.

Admission order — cheapest and least revealing first: size and shape, known type, body schema,
known actor, signature, actor allowed to write the type, time within the accepted skew.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ledger.crypto.actor_keys import actor_key_id, verify_actor_signature
from ledger.errors import ForbiddenError, MalformedError
from ledger.formats.entry import Entry, entry_time, parse_entry

__all__ = [
    "ActorDirectory",
    "ActorGrant",
    "ActorInfo",
    "EntryType",
    "KeyAddedBody",
    "NoteBody",
    "admit",
    "ed25519_public_key",
    "entry_type",
    "register",
    "type_allowed",
]

KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
TypePattern = Annotated[
    str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))+)$")
]


class StrictBody(BaseModel):
    """Base of every body schema: unknown fields and coercions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def admitted_actor(self) -> ActorGrant | None:
        """The actor key this entry admits to the log, if any (see ``trust.key_added``)."""
        return None

    def required_actor_name(self) -> str | None:
        """The name the writing actor must have been admitted under, if the type needs one
        (a state root may certify only its own state's consulates)."""
        return None


@dataclass(frozen=True)
class ActorGrant:
    """An actor key admitted by an entry, and the entry types it may write from then on."""

    key_id: str
    public_key: bytes
    name: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class EntryType:
    """A registered entry type: its name and the schema of its body."""

    name: str
    body: type[StrictBody]
    description: str


_REGISTRY: dict[str, EntryType] = {}


def register(name: str, body: type[StrictBody], description: str) -> EntryType:
    """Add an entry type; a name can be registered once."""
    if name in _REGISTRY:
        raise ValueError(f"entry type {name!r} is already registered")
    _REGISTRY[name] = kind = EntryType(name, body, description)
    return kind


def entry_type(name: str) -> EntryType:
    """The registered type, or :class:`MalformedError` naming the unknown type."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise MalformedError(f"unknown entry type {name!r}") from None


def registered_types() -> Sequence[str]:
    return sorted(_REGISTRY)


# --- the types of the log core ---------------------------------------------------------------


class KeyAddedBody(StrictBody):
    """Admits an actor key and the entry types it may write (``area.*`` and ``*`` allowed)."""

    key_id: KeyId
    public_key: Annotated[str, StringConstraints(min_length=44, max_length=44)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    types: Annotated[list[TypePattern], Field(min_length=1, max_length=64)]

    def public_key_bytes(self) -> bytes:
        return ed25519_public_key(self.public_key, self.key_id, "trust.key_added")

    def admitted_actor(self) -> ActorGrant:
        return ActorGrant(self.key_id, self.public_key_bytes(), self.name, tuple(self.types))


def ed25519_public_key(text: str, key_id: str, where: str) -> bytes:
    """Decode a base64 Ed25519 public key and check that ``key_id`` names it."""
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise _BodyError(f"malformed {where}: public key is not base64") from None
    if len(raw) != 32:
        raise _BodyError(f"malformed {where}: public key must be 32 bytes")
    if actor_key_id(raw) != key_id:
        raise _BodyError(f"malformed {where}: key id does not match the public key")
    return raw


class _BodyError(MalformedError, ValueError):
    """Raised inside body validation; pydantic reports it like any field error."""


class NoteBody(StrictBody):
    """Free text from an operator (never personal data: the log is public)."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


register("trust.key_added", KeyAddedBody, "an actor key is admitted to write some entry types")
register("log.note", NoteBody, "a free-text note from an operator")


# --- admission -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorInfo:
    """What the log knows of an actor key."""

    key_id: str
    public_key: bytes
    types: tuple[str, ...]
    name: str = ""

    @classmethod
    def from_types_json(
        cls, key_id: str, public_key: bytes, types_json: str, name: str = ""
    ) -> ActorInfo:
        return cls(key_id, public_key, tuple(json.loads(types_json)), name)


class ActorDirectory(Protocol):
    """Where admission looks actor keys up (the store, or a cache in front of it)."""

    def actor(self, key_id: str) -> ActorInfo | None: ...


def type_allowed(patterns: Sequence[str], name: str) -> bool:
    """True if one of ``patterns`` (exact, ``area.*`` or ``*``) covers the type ``name``."""
    for pattern in patterns:
        if pattern == "*" or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def validate_body(entry: Entry) -> StrictBody:
    """The entry's body checked against its type's schema."""
    kind = entry_type(entry.type)
    try:
        return kind.body.model_validate(entry.body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: "
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise MalformedError(f"malformed {entry.type} body: {problems}") from None


@dataclass(frozen=True)
class Admitted:
    """An entry that passed admission, with its canonical bytes (the leaf) and parsed body."""

    entry: Entry
    data: bytes
    body: StrictBody


def admit(
    data: bytes,
    directory: ActorDirectory,
    *,
    now: datetime | None = None,
    max_future: timedelta = timedelta(minutes=10),
    max_past: timedelta = timedelta(days=1),
    extra_actor: ActorInfo | None = None,
) -> Admitted:
    """Check an entry submitted for the log; return it in canonical form or raise.

    ``extra_actor`` lets the log's own bootstrap admit the operator's self-signed first entry.
    Raises :class:`MalformedError` (shape, type, body, time), :class:`ForbiddenError` (unknown
    actor, type not allowed) or :class:`VerificationError` (signature).
    """
    entry = parse_entry(data)
    body = validate_body(entry)
    actor = extra_actor if extra_actor and extra_actor.key_id == entry.actor else None
    actor = actor or directory.actor(entry.actor)
    if actor is None:
        raise ForbiddenError(f"unknown actor key {entry.actor}")
    verify_actor_signature(actor.public_key, entry.signed_bytes(), entry.sig)
    if not type_allowed(actor.types, entry.type):
        raise ForbiddenError(f"actor {entry.actor} may not write {entry.type} entries")
    required = body.required_actor_name()
    if required is not None and actor.name != required:
        raise ForbiddenError(f"only the {required} may write this {entry.type} entry")
    moment = entry_time(entry.time)
    current = now or datetime.now(UTC)
    if moment > current + max_future:
        raise MalformedError(f"entry time {entry.time} is in the future")
    if moment < current - max_past:
        raise MalformedError(f"entry time {entry.time} is too old to be accepted")
    return Admitted(entry, entry.encode(), body)


# The identity and credential types register themselves on import; importing them here makes
# the registry complete wherever entries are admitted or replayed.
from ledger import identity_types as _identity_types  # noqa: E402, F401
