"""Consulates' issuer keys: a BBS key pair for credentials and an Ed25519 key for status lists
and log entries, created here, stored sealed, opened on first use and kept in memory."""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from ledger.crypto import bbs
from ledger.crypto.actor_keys import ActorKey
from ledger.crypto.sealed import open_sealed, seal
from ledger.errors import MalformedError, NotFoundError
from ledger.formats.entry import format_time
from ledger.services.context import IdentityContext
from ledger.store.database import writing
from ledger.store.models import IssuerKeyRow

__all__ = ["IssuerPublic", "IssuerSecrets", "create_issuer", "issuer_public", "issuer_secrets"]

_CIPHERSUITES = {"BLS12-381-SHA-256": bbs.SHA256, "BLS12-381-SHAKE-256": bbs.SHAKE256}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class IssuerPublic:
    issuer_id: str
    state: str
    name: str
    ciphersuite: str
    list_key: bytes
    bbs_public_key: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "issuer_id": self.issuer_id,
            "state": self.state,
            "name": self.name,
            "ciphersuite": self.ciphersuite,
            "list_key": base64.b64encode(self.list_key).decode(),
            "bbs_public_key": base64.b64encode(self.bbs_public_key).decode(),
        }


@dataclass(frozen=True, repr=False)
class IssuerSecrets:
    public: IssuerPublic
    list_key: ActorKey
    bbs_secret: bytes

    @property
    def suite(self) -> str:
        return _CIPHERSUITES[self.public.ciphersuite]

    def __repr__(self) -> str:
        return f"IssuerSecrets({self.public.issuer_id})"


def create_issuer(
    ctx: IdentityContext, *, state: str, name: str, ciphersuite: str = "BLS12-381-SHA-256"
) -> IssuerPublic:
    """New issuer keys for a consulate of ``state``; certified later by the state's root."""
    if ciphersuite not in _CIPHERSUITES:
        raise MalformedError(f"unknown ciphersuite {ciphersuite!r}")
    if len(state) != 3 or not state.isalpha() or not state.isupper():
        raise MalformedError("state must be an ISO 3166 alpha-3 code, e.g. MEX")
    if not 1 <= len(name) <= 200:
        raise MalformedError("name must be 1..200 characters")
    suite = _CIPHERSUITES[ciphersuite]
    list_key = ActorKey.generate()
    bbs_secret = bbs.keygen(os.urandom(32), ciphersuite=suite)
    public = IssuerPublic(
        list_key.key_id,
        state,
        name,
        ciphersuite,
        list_key.public_key,
        bbs.sk_to_pk(bbs_secret, ciphersuite=suite),
    )
    secret = json.dumps({"list_key": list_key.seed.hex(), "bbs_secret": bbs_secret.hex()}).encode()
    sealed = seal(secret, ctx.sealing, label=f"consular-ledger/issuer/{public.issuer_id}")
    with writing(ctx.engine) as conn:
        conn.execute(
            insert(IssuerKeyRow).values(
                issuer_id=public.issuer_id,
                state=state,
                name=name,
                ciphersuite=ciphersuite,
                list_key=public.list_key,
                bbs_public_key=public.bbs_public_key,
                sealed=sealed,
                created_at=format_time(datetime.now(UTC)),
            )
        )
    ctx._cache[f"issuer:{public.issuer_id}"] = IssuerSecrets(public, list_key, bbs_secret)
    return public


def issuer_public(ctx: IdentityContext, issuer_id: str) -> IssuerPublic:
    with ctx.engine.connect() as conn:
        row = conn.execute(
            select(
                IssuerKeyRow.issuer_id,
                IssuerKeyRow.state,
                IssuerKeyRow.name,
                IssuerKeyRow.ciphersuite,
                IssuerKeyRow.list_key,
                IssuerKeyRow.bbs_public_key,
            ).where(IssuerKeyRow.issuer_id == issuer_id)
        ).first()
    if row is None:
        raise NotFoundError("no issuer with that id on this instance")
    return IssuerPublic(row[0], row[1], row[2], row[3], bytes(row[4]), bytes(row[5]))


def issuer_secrets(ctx: IdentityContext, issuer_id: str) -> IssuerSecrets:
    """The issuer's private keys (unsealed once per process)."""
    key = f"issuer:{issuer_id}"
    with _LOCK:
        cached = ctx._cache.get(key)
    if cached is not None:
        return cached
    public = issuer_public(ctx, issuer_id)
    with ctx.engine.connect() as conn:
        sealed = conn.execute(
            select(IssuerKeyRow.sealed).where(IssuerKeyRow.issuer_id == issuer_id)
        ).scalar_one()
    opened = json.loads(
        open_sealed(bytes(sealed), ctx.sealing, label=f"consular-ledger/issuer/{issuer_id}")
    )
    secrets_ = IssuerSecrets(
        public, ActorKey(bytes.fromhex(opened["list_key"])), bytes.fromhex(opened["bbs_secret"])
    )
    with _LOCK:
        ctx._cache[key] = secrets_
    return secrets_
