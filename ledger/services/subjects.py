"""Registering nationals, reading and erasing their personal records — every step logged.

The log never sees personal data: a registration is a random pseudonym and a salted commitment
(the salt is inside the encrypted record, so a birth date cannot be guessed from the log). A
read is logged *before* the record is returned; an erasure is logged, then the data key and
ciphertext are deleted (crypto-shredding) — the log and every proof stay verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import rfc8785
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator
from sqlalchemy import delete, insert, select, update

from ledger.errors import ConflictError, ForbiddenError, GoneError, MalformedError, NotFoundError
from ledger.formats.entry import format_time
from ledger.services.context import AppendPendingError, IdentityContext, new_pseudonym, now_utc
from ledger.services.issuers import issuer_secrets
from ledger.store.database import writing
from ledger.store.models import AccessEventRow, SubjectRow
from ledger.store.tokens import Caller

__all__ = [
    "PURPOSES",
    "PersonalRecord",
    "Registered",
    "access_history",
    "erase_subject",
    "log_access",
    "open_record",
    "read_subject",
    "register_subject",
]

PURPOSES = (
    "issuance",
    "renewal",
    "correction",
    "consular_assistance",
    "subject_request",
    "oversight",
)

Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class PersonalRecord(BaseModel):
    """What the consulate keeps about a national; only ever stored encrypted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family_name: Text
    given_names: Text
    birth_date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    place_of_birth: Text | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None

    @field_validator("birth_date")
    @classmethod
    def _real_past_date(cls, value: str) -> str:
        try:
            born = date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a real date") from None
        if born > date.today():
            raise ValueError("in the future")
        return value


def parse_record(data: Any) -> PersonalRecord:
    try:
        return PersonalRecord.model_validate(data)
    except ValidationError as exc:
        fields_ = sorted({".".join(str(p) for p in e["loc"]) or "record" for e in exc.errors()})
        raise MalformedError(f"malformed personal record: check {', '.join(fields_)}") from None


@dataclass(frozen=True)
class Registered:
    subject: str
    issuer_id: str
    log_index: int


def _check_scope(caller: Caller, issuer_id: str) -> None:
    """Officers and supervisors act only on their own consulate's records (their token says
    which); a token without a consulate acts on none."""
    if caller.issuer_id != issuer_id:
        raise ForbiddenError("this record belongs to another consulate")


def register_subject(
    ctx: IdentityContext, caller: Caller, record: PersonalRecord, issuer_id: str | None
) -> Registered:
    """Store ``record`` encrypted and log the registration (pseudonym and commitment only)."""
    issuer_id = issuer_id or caller.issuer_id
    if issuer_id is None:
        raise MalformedError("give the issuer_id of the registering consulate")
    _check_scope(caller, issuer_id)
    issuer = issuer_secrets(ctx, issuer_id)
    subject = new_pseudonym()
    salt = secrets.token_bytes(32)
    canonical = rfc8785.dumps(record.model_dump(exclude_none=True))
    commitment = base64.b64encode(hashlib.sha256(salt + canonical).digest()).decode()
    plaintext = json.dumps(
        {"record": record.model_dump(exclude_none=True), "salt": salt.hex()}
    ).encode()
    wrapped, ciphertext = ctx.vault.seal(plaintext, context=subject.encode())
    with writing(ctx.engine) as conn:
        conn.execute(
            insert(SubjectRow).values(
                id=subject,
                issuer_id=issuer_id,
                wrapped_key=wrapped,
                ciphertext=ciphertext,
                registered_at=format_time(now_utc()),
            )
        )
    try:
        (index,) = ctx.append(
            issuer.list_key,
            [("subject.registered", {"subject": subject, "commitment": commitment})],
        )
    except AppendPendingError:
        raise  # it may still be logged: keep the record it would name
    except BaseException:
        with writing(ctx.engine) as conn:  # the log refused it: leave no record behind
            conn.execute(delete(SubjectRow).where(SubjectRow.id == subject))
        raise
    return Registered(subject, issuer_id, index)


def _row(ctx: IdentityContext, subject: str) -> SubjectRow:
    with ctx.engine.connect() as conn:
        row = conn.execute(
            select(
                SubjectRow.id,
                SubjectRow.issuer_id,
                SubjectRow.wrapped_key,
                SubjectRow.ciphertext,
                SubjectRow.erased_at,
            ).where(SubjectRow.id == subject)
        ).first()
    if row is None:
        raise NotFoundError("no such subject")
    return row  # type: ignore[return-value]


def _open(ctx: IdentityContext, row: Any) -> dict[str, Any]:
    if row.wrapped_key is None or row.ciphertext is None:
        raise GoneError("the personal data of this subject has been erased")
    return json.loads(ctx.vault.open(row.wrapped_key, row.ciphertext, context=row.id.encode()))


def read_subject(
    ctx: IdentityContext, caller: Caller, subject: str, purpose: str
) -> PersonalRecord:
    """The personal record, after logging who read it and why (durably, before it is returned)."""
    if purpose not in PURPOSES:
        raise MalformedError(f"purpose must be one of {', '.join(PURPOSES)}")
    issuer_id, record = open_record(ctx, caller, subject)  # fails before logging a read
    log_access(ctx, caller, issuer_id, subject, purpose)
    return record


def open_record(ctx: IdentityContext, caller: Caller, subject: str) -> tuple[str, PersonalRecord]:
    """(issuer id, record) *without* logging the read: every caller must log it with
    :func:`log_access` before anything derived from the record leaves the service."""
    row = _row(ctx, subject)
    _check_scope(caller, row.issuer_id)
    return row.issuer_id, PersonalRecord.model_validate(_open(ctx, row)["record"])


def log_access(
    ctx: IdentityContext, caller: Caller, issuer_id: str, subject: str, purpose: str
) -> None:
    """Record a read in the subject's access history and in the log, before the read happens.

    The history row is written first and removed only if the log refuses the entry, so a read
    the log shows is never missing from the history the subject sees.
    """
    if caller.role not in ("officer", "supervisor"):
        raise ForbiddenError("only officers and supervisors read personal records")
    issuer = issuer_secrets(ctx, issuer_id)
    nonce = secrets.token_hex(8)
    with writing(ctx.engine) as conn:
        conn.execute(
            insert(AccessEventRow).values(
                nonce=nonce, subject_id=subject, accessor=caller.accessor, role=caller.role,
                purpose=purpose, at=format_time(now_utc()),
            )
        )  # fmt: skip
    body = {
        "nonce": nonce,
        "subject": subject,
        "accessor": caller.accessor,
        "role": caller.role,
        "purpose": purpose,
    }
    try:
        (index,) = ctx.append(issuer.list_key, [("record.accessed", body)])
    except AppendPendingError:
        raise  # the entry may still land: keep the history row
    except BaseException:
        with writing(ctx.engine) as conn:
            conn.execute(delete(AccessEventRow).where(AccessEventRow.nonce == nonce))
        raise
    with writing(ctx.engine) as conn:
        conn.execute(
            update(AccessEventRow).where(AccessEventRow.nonce == nonce).values(log_index=index)
        )


def erase_subject(ctx: IdentityContext, caller: Caller, subject: str) -> int:
    """Log the erasure, then destroy the data key and ciphertext. Returns the log index."""
    row = _row(ctx, subject)
    _check_scope(caller, row.issuer_id)
    if row.erased_at is not None:
        raise ConflictError("the personal data of this subject is already erased")
    issuer = issuer_secrets(ctx, row.issuer_id)
    (index,) = ctx.append(issuer.list_key, [("record.erased", {"subject": subject})])
    with writing(ctx.engine) as conn:
        conn.execute(
            update(SubjectRow)
            .where(SubjectRow.id == subject)
            .values(wrapped_key=None, ciphertext=None, erased_at=format_time(now_utc()))
        )
    return index


def access_history(ctx: IdentityContext, caller: Caller, subject: str) -> list[dict[str, Any]]:
    """Who read this subject's record, when and why — for the subject or a supervisor."""
    if caller.role == "subject" and caller.subject_id != subject:
        raise ForbiddenError("a subject may see only their own access history")
    row = _row(ctx, subject)
    if caller.role == "supervisor":
        _check_scope(caller, row.issuer_id)
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(
                AccessEventRow.log_index,
                AccessEventRow.at,
                AccessEventRow.role,
                AccessEventRow.purpose,
                AccessEventRow.accessor,
            )
            .where(AccessEventRow.subject_id == subject)
            .order_by(AccessEventRow.at, AccessEventRow.log_index)
        ).all()
    return [
        {"log_index": i, "at": at, "role": role, "purpose": purpose, "accessor": accessor}
        for i, at, role, purpose, accessor in rows
    ]
