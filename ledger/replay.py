"""Re-checking a log's entries in order, from the log alone: shape, body schema, signature and
whether the actor was allowed to write that type — as the log itself admitted them.

The first entry must be the operator's self-signed ``trust.key_added``; every later actor must
have been admitted by an earlier ``trust.key_added``. Used by the auditor.
"""

from __future__ import annotations

from ledger.crypto.actor_keys import verify_actor_signature
from ledger.entries import ActorInfo, KeyAddedBody, type_allowed, validate_body
from ledger.errors import InvalidDataError
from ledger.formats.entry import parse_entry

__all__ = ["EntryReplayer"]


class EntryReplayer:
    """Feed entries in index order to :meth:`check`; it returns a problem (no index) or None."""

    def __init__(self) -> None:
        self._actors: dict[str, ActorInfo] = {}
        self._next = 0

    def check(self, index: int, data: bytes) -> str | None:
        if index != self._next:
            return f"out of order (expected entry {self._next})"
        self._next += 1
        try:
            entry = parse_entry(data)
            if entry.encode() != data:
                return "not in canonical form"
            body = validate_body(entry)
            grant = body.admitted_actor()
            actor = self._actors.get(entry.actor)
            if actor is None and index == 0 and isinstance(body, KeyAddedBody):
                if body.key_id != entry.actor:
                    return "the first entry must add the key that signs it"
                actor = ActorInfo(
                    body.key_id, body.public_key_bytes(), tuple(body.types), body.name
                )
            if actor is None:
                return f"actor {entry.actor} was never admitted"
            verify_actor_signature(actor.public_key, entry.signed_bytes(), entry.sig)
            if not type_allowed(actor.types, entry.type):
                return f"actor {entry.actor} may not write {entry.type}"
            required = body.required_actor_name()
            if required is not None and actor.name != required:
                return f"only the {required} may write this {entry.type} entry"
            if grant is not None:
                if grant.key_id in self._actors:
                    return f"actor key {grant.key_id} added twice"
                self._actors[grant.key_id] = ActorInfo(
                    grant.key_id, grant.public_key, grant.types, grant.name
                )
        except InvalidDataError as exc:
            return str(exc)
        return None
