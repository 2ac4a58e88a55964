"""API bearer tokens: 256-bit random, shown once to whoever creates them, stored as SHA-256.

A plain hash is the right tool here (not a password hash): the token has full entropy, so
there is nothing to brute-force, and lookups stay one indexed read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from ledger.errors import MalformedError, NotFoundError
from ledger.formats.entry import format_time
from ledger.store.database import writing
from ledger.store.models import ApiToken, IssuerKeyRow

__all__ = ["ROLES", "Caller", "create_token", "revoke_token", "token_caller", "token_role"]

ROLES = ("operator", "officer", "supervisor", "auditor", "subject")
#: Roles that act on personal records: always bound to one consulate's records.
SCOPED_ROLES = ("officer", "supervisor")


@dataclass(frozen=True)
class Caller:
    """Who is calling: a role, a stable pseudonymous id for the token (logged as the accessor),
    and, for scoped tokens, the consulate (issuer) or the subject it is bound to."""

    role: str
    accessor: str
    issuer_id: str | None = None
    subject_id: str | None = None


_PREFIX = "clt_"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def create_token(
    engine: Engine,
    role: str,
    label: str,
    *,
    issuer_id: str | None = None,
    subject_id: str | None = None,
) -> str:
    """A new token for ``role``; the caller must hand it over — it cannot be read back."""
    if role not in ROLES:
        raise MalformedError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if (role == "subject") != (subject_id is not None):
        raise MalformedError("a subject token, and only it, is bound to a subject")
    if (role in SCOPED_ROLES) != (issuer_id is not None):
        raise MalformedError(
            "officer and supervisor tokens, and only they, are bound to one consulate: "
            "give its issuer id"
        )
    if issuer_id is not None:
        with engine.connect() as conn:
            known = conn.execute(
                select(IssuerKeyRow.issuer_id).where(IssuerKeyRow.issuer_id == issuer_id)
            ).first()
        if known is None:
            raise NotFoundError("no consulate with that issuer id on this instance")
    token = _PREFIX + secrets.token_urlsafe(32)
    with writing(engine) as conn:
        conn.execute(
            insert(ApiToken).values(
                token_hash=_digest(token),
                role=role,
                label=label[:200],
                created_at=format_time(datetime.now(UTC)),
                issuer_id=issuer_id,
                subject_id=subject_id,
            )
        )
    return token


def token_caller(engine: Engine, token: str) -> Caller | None:
    """The caller behind a live token, or None for an unknown or revoked one."""
    if not token.startswith(_PREFIX) or len(token) > 100:
        return None
    digest = _digest(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(
                ApiToken.role, ApiToken.revoked_at, ApiToken.issuer_id, ApiToken.subject_id
            ).where(ApiToken.token_hash == digest)
        ).first()
    if row is None or row[1] is not None:
        return None
    accessor = hashlib.sha256(b"accessor\n" + digest).hexdigest()[:16]
    return Caller(row[0], accessor, row[2], row[3])


def token_role(engine: Engine, token: str) -> str | None:
    """The role of a live token, or None for an unknown or revoked one."""
    caller = token_caller(engine, token)
    return None if caller is None else caller.role


def revoke_token(engine: Engine, token: str) -> None:
    with writing(engine) as conn:
        done = conn.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
            .values(revoked_at=format_time(datetime.now(UTC)))
        )
    if done.rowcount == 0:
        raise NotFoundError("no live token like that")
