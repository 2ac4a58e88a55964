"""The trust list as the service publishes it: the log's trust entries, in order, signed by
the operator. Re-signed when a trust entry is added, and at least every ``max_age`` so that
verifiers can tell fresh data from stale."""

from __future__ import annotations

import base64
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from ledger.crypto.actor_keys import actor_key_id
from ledger.errors import MalformedError
from ledger.services.context import IdentityContext, now_utc
from ledger.store.models import EntryRow, StatusListRow
from ledger.trust import (
    TRUST_ENTRY_TYPES,
    StatusRef,
    TrustList,
    build_trust_list,
    open_trust_list,
)

__all__ = ["add_state_root", "current_trust", "trust_list_document"]

_LOCK = threading.Lock()


def add_state_root(ctx: IdentityContext, *, state: str, name: str, public_key: bytes) -> int:
    """The operator admits a state's root key (which then certifies that state's consulates)."""
    if len(public_key) != 32:
        raise MalformedError("a state root key is an Ed25519 public key of 32 bytes")
    body = {
        "state": state,
        "name": name,
        "key_id": actor_key_id(public_key),
        "public_key": base64.b64encode(public_key).decode(),
    }
    (index,) = ctx.append(ctx.operator, [("trust.state_root_added", body)])
    return index


def trust_list_document(ctx: IdentityContext, max_age: timedelta = timedelta(minutes=5)) -> bytes:
    """The current signed trust list (cached until a trust entry is added or ``max_age``)."""
    with ctx.engine.connect() as conn:
        last = conn.execute(
            select(func.max(EntryRow.idx)).where(EntryRow.type.in_(TRUST_ENTRY_TYPES))
        ).scalar_one()
        versions = tuple(
            conn.execute(select(StatusListRow.id, StatusListRow.version).order_by(StatusListRow.id))
        )
    key = (last, versions)
    with _LOCK:
        cached = ctx._cache.get("trust_list")
        if cached and cached[0] == key and time.monotonic() - cached[1] < max_age.total_seconds():
            return cached[2]
    with ctx.engine.connect() as conn:
        entries = [
            bytes(data)
            for (data,) in conn.execute(
                select(EntryRow.data)
                .where(EntryRow.type.in_(TRUST_ENTRY_TYPES))
                .order_by(EntryRow.idx)
            )
        ]
        refs = [
            StatusRef.of(list_id, issuer_id, version, bytes(revocation), bytes(suspension))
            for list_id, issuer_id, version, revocation, suspension in conn.execute(
                select(
                    StatusListRow.id, StatusListRow.issuer_id, StatusListRow.version,
                    StatusListRow.revocation_doc, StatusListRow.suspension_doc,
                )
            )
        ]  # fmt: skip
    size = ctx.log.store.size()
    document = build_trust_list(
        entries, ctx.operator, origin=ctx.log.config.origin, size=size, now=now_utc(),
        status_lists=refs,
    )  # fmt: skip
    with _LOCK:
        ctx._cache["trust_list"] = (key, time.monotonic(), document)
    return document


def current_trust(ctx: IdentityContext) -> TrustList:
    """The current trust list, opened (every entry signature checked) once per document."""
    document = trust_list_document(ctx)
    with _LOCK:
        cached = ctx._cache.get("trust_opened")
        if cached is not None and cached[0] is document:
            return cached[1]
    opened = open_trust_list(document, ctx.operator.public_key)
    with _LOCK:
        ctx._cache["trust_opened"] = (document, opened)
    return opened
