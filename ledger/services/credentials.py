"""Issuing consular ID credentials and changing their status.

A document is a batch of BBS credentials over the same attributes, each with its own random
index in the issuer's status list, so no index has to be shown twice. The log gets one
``credential.issued`` per credential (commitment, status reference — no attribute); status
changes flip the bits of every credential of the document, re-sign the issuer's status lists
and log both the change and the new list versions.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, delete, func, insert, select, update

from ledger.crypto import bbs
from ledger.errors import ConflictError, MalformedError, NotFoundError
from ledger.formats.credential import (
    DOCUMENT_TYPE,
    CredentialAttributes,
    age_over,
    credential_header,
)
from ledger.formats.entry import format_time
from ledger.formats.offer import Offer, OfferedCredential, split_attributes
from ledger.formats.status_list import (
    DEFAULT_SIZE,
    StatusList,
    encode_status_list,
    new_bits,
    set_status,
)
from ledger.services.context import AppendPendingError, IdentityContext, new_pseudonym, now_utc
from ledger.services.issuers import IssuerSecrets, issuer_secrets
from ledger.services.subjects import _check_scope, log_access, open_record
from ledger.services.trust_service import current_trust
from ledger.store.database import writing
from ledger.store.models import CredentialRow, DocumentRow, StatusListRow
from ledger.store.tokens import Caller

__all__ = [
    "Issued",
    "change_status",
    "credential_commitment",
    "issue_document",
    "status_list_documents",
    "status_list_ids",
]

STATUSES = ("active", "revoked", "suspended")
_LIST_LOCK = threading.Lock()
_MAX_FILL = DEFAULT_SIZE // 2  # keep lists sparse so a random free index is found at once


@dataclass(frozen=True)
class Issued:
    document_id: str
    offer: Offer
    log_indexes: list[int]


def _add_months(day: date, months: int) -> str:
    month0 = day.month - 1 + months
    return f"{day.year + month0 // 12:04d}-{month0 % 12 + 1:02d}"


def _sign_list(
    issuer: IssuerSecrets, list_id: str, purpose: str, version: int, bits: bytes
) -> bytes:
    content = StatusList(
        list_id,
        issuer.public.issuer_id,
        purpose,
        version,
        format_time(now_utc()),
        bits,  # type: ignore[arg-type]
    )
    return encode_status_list(content, issuer.list_key.sign)


def credential_commitment(signature: bytes) -> str:
    """What the log shows of a credential: a hash of its signature, which only the holder has
    (full entropy, so nothing can be guessed from it); the wallet can find its entries by it."""
    return _digest(b"consular-ledger/credential\n" + signature)


def _digest(doc: bytes) -> str:
    return base64.b64encode(hashlib.sha256(doc).digest()).decode()


def _current_list(ctx: IdentityContext, issuer: IssuerSecrets, count: int) -> str:
    """The issuer's status list with room for ``count`` more indexes; a new list is created and
    its first version logged before any credential refers to it."""
    issuer_id = issuer.public.issuer_id
    with ctx.engine.connect() as conn:
        found = conn.execute(
            select(StatusListRow.id)
            .where(StatusListRow.issuer_id == issuer_id, StatusListRow.used + count <= _MAX_FILL)
            .order_by(StatusListRow.id)
            .limit(1)
        ).scalar_one_or_none()
        existing = conn.execute(
            select(func.count())
            .select_from(StatusListRow)
            .where(StatusListRow.issuer_id == issuer_id)
        ).scalar_one()
    if found is not None:
        return found
    list_id = f"{issuer_id[:12]}-{existing + 1}"
    empty = new_bits()
    revocation = _sign_list(issuer, list_id, "revocation", 1, empty)
    suspension = _sign_list(issuer, list_id, "suspension", 1, empty)
    with writing(ctx.engine) as conn:  # a concurrent creator makes this a 409: try again
        conn.execute(
            insert(StatusListRow).values(
                id=list_id, issuer_id=issuer_id, size=DEFAULT_SIZE, used=0, version=1,
                revocation=empty, suspension=empty,
                revocation_doc=revocation, suspension_doc=suspension,
            )
        )  # fmt: skip
    _log_or_undo(
        ctx,
        issuer,
        [_published(list_id, "revocation", 1, revocation),
         _published(list_id, "suspension", 1, suspension)],
        undo=lambda conn: conn.execute(delete(StatusListRow).where(StatusListRow.id == list_id)),
    )  # fmt: skip
    return list_id


def _published(
    list_id: str, purpose: str, version: int, doc: bytes
) -> tuple[str, dict[str, object]]:
    return (
        "status_list.published",
        {"status_list": list_id, "purpose": purpose, "version": version, "sha256": _digest(doc)},
    )


def _log_or_undo(
    ctx: IdentityContext,
    issuer: IssuerSecrets,
    entries: list[tuple[str, dict[str, object]]],
    *,
    undo: Callable[[Connection], object],
) -> list[int]:
    """Append ``entries``; if the log refuses them, undo the database change they describe, so
    database and log agree. (An entry not yet confirmed may still land: then nothing is undone.)
    """
    try:
        return ctx.append(issuer.list_key, entries)
    except AppendPendingError:
        raise
    except BaseException:
        with writing(ctx.engine) as conn:
            undo(conn)
        raise


def issue_document(
    ctx: IdentityContext,
    caller: Caller,
    subject: str,
    *,
    document_number: str,
    expiry_months: int = 60,
    batch: int = 5,
    today: date | None = None,
) -> Issued:
    """Issue a consular ID to a registered subject as ``batch`` BBS credentials.

    Refused (before anything is logged) if the consulate is not certified, on the trust list,
    for the subject's nationality on this date.
    """
    if not 1 <= batch <= 10:
        raise MalformedError("batch must be 1..10 credentials")
    if not 1 <= expiry_months <= 120:
        raise MalformedError("expiry_months must be 1..120")
    if not 1 <= len(document_number) <= 40 or not document_number.isprintable():
        raise MalformedError("document_number must be 1..40 printable characters")
    issuer_id, record = open_record(ctx, caller, subject)
    issuer = issuer_secrets(ctx, issuer_id)
    on = today or now_utc().date()
    trust = current_trust(ctx)
    trust.view.check(
        issuer_id, nationality=record.nationality, document_type=DOCUMENT_TYPE, issued_on=on
    )
    common = {
        "document_number": document_number,
        "family_name": record.family_name,
        "given_names": record.given_names,
        "birth_date": record.birth_date,
        "age_over_18": "true" if age_over(record.birth_date, 18, on) else "false",
        "age_over_21": "true" if age_over(record.birth_date, 21, on) else "false",
        "nationality": record.nationality,
        "issuing_consulate": issuer.public.name,
        "issue_date": on.isoformat(),
        "expiry": _add_months(on, expiry_months),
        "holder_secret": secrets.token_hex(16),
    }
    CredentialAttributes(**common, status_list_id="check", status_index="0")  # fail early
    log_access(ctx, caller, issuer_id, subject, "issuance")
    list_id = _current_list(ctx, issuer, batch)
    document_id = new_pseudonym()
    with _LIST_LOCK, writing(ctx.engine) as conn:
        taken = set(
            conn.execute(
                select(CredentialRow.status_index).where(CredentialRow.status_list_id == list_id)
            ).scalars()
        )
        indexes: list[int] = []
        while len(indexes) < batch:
            index = secrets.randbelow(DEFAULT_SIZE)
            if index not in taken:
                taken.add(index)
                indexes.append(index)
        ids = [new_pseudonym() for _ in indexes]
        conn.execute(
            insert(DocumentRow).values(
                id=document_id, subject_id=subject, issuer_id=issuer_id, status="active",
                issued_at=format_time(now_utc()),
            )
        )  # fmt: skip
        conn.execute(
            insert(CredentialRow),
            [
                {"id": cid, "document_id": document_id, "status_list_id": list_id,
                 "status_index": index}
                for cid, index in zip(ids, indexes, strict=True)
            ],
        )  # fmt: skip
        conn.execute(
            update(StatusListRow)
            .where(StatusListRow.id == list_id)
            .values(used=StatusListRow.used + batch)
        )

    def undo(conn: Connection) -> None:  # the document was never issued
        conn.execute(delete(CredentialRow).where(CredentialRow.document_id == document_id))
        conn.execute(delete(DocumentRow).where(DocumentRow.id == document_id))
        conn.execute(
            update(StatusListRow)
            .where(StatusListRow.id == list_id)
            .values(used=StatusListRow.used - batch)
        )

    header = credential_header()
    offered: list[OfferedCredential] = []
    entries: list[tuple[str, dict[str, object]]] = []
    try:
        for cid, index in zip(ids, indexes, strict=True):
            attrs = CredentialAttributes(**common, status_list_id=list_id, status_index=str(index))
            signature = bbs.sign(
                issuer.bbs_secret, issuer.public.bbs_public_key, header, attrs.messages(),
                ciphersuite=issuer.suite,
            )  # fmt: skip
            offered.append(OfferedCredential(cid, list_id, index, signature))
            entries.append((
                "credential.issued",
                {"credential": cid, "commitment": credential_commitment(signature),
                 "status_list": list_id, "status_index": index},
            ))  # fmt: skip
    except BaseException:
        with writing(ctx.engine) as conn:
            undo(conn)
        raise
    log_indexes = _log_or_undo(ctx, issuer, entries, undo=undo)
    offer = Offer(
        issuer_id=issuer_id,
        ciphersuite=issuer.public.ciphersuite,
        common=split_attributes(
            CredentialAttributes(**common, status_list_id=list_id, status_index=str(indexes[0]))
        ),
        credentials=tuple(offered),
    )
    return Issued(document_id, offer, log_indexes)


def change_status(ctx: IdentityContext, caller: Caller, document_id: str, status: str) -> list[int]:
    """Set a document's status (revoked is final); flips every credential of the batch.

    The new status lists are stored first and then logged, so a change is never in the log
    without being served; if the log refuses it, the lists are put back and the call fails.
    Another change to the same lists in between (any process) makes this one a 409.
    """
    if status not in STATUSES:
        raise MalformedError(f"status must be one of {', '.join(STATUSES)}")
    with ctx.engine.connect() as conn:
        doc = conn.execute(
            select(DocumentRow.issuer_id, DocumentRow.status).where(DocumentRow.id == document_id)
        ).first()
        if doc is None:
            raise NotFoundError("no such document")
        creds = conn.execute(
            select(
                CredentialRow.id, CredentialRow.status_list_id, CredentialRow.status_index
            ).where(CredentialRow.document_id == document_id)
        ).all()
    issuer_id, current = doc
    _check_scope(caller, issuer_id)
    if current == "revoked":
        raise ConflictError("the document is revoked; revocation is final")
    if current == status:
        raise ConflictError(f"the document is already {status}")
    issuer = issuer_secrets(ctx, issuer_id)
    entries: list[tuple[str, dict[str, object]]] = [
        (
            "credential.status_changed",
            {"nonce": secrets.token_hex(8), "credential": cid, "status": status},
        )
        for cid, _, _ in creds
    ]
    before: dict[str, dict[str, object]] = {}
    after: dict[str, dict[str, object]] = {}
    with _LIST_LOCK:
        with ctx.engine.connect() as conn:
            for list_id in sorted({list_id for _, list_id, _ in creds}):
                row = conn.execute(
                    select(
                        StatusListRow.revocation, StatusListRow.suspension,
                        StatusListRow.version, StatusListRow.revocation_doc,
                        StatusListRow.suspension_doc,
                    ).where(StatusListRow.id == list_id)
                ).one()  # fmt: skip
                revocation, suspension, version = bytes(row[0]), bytes(row[1]), row[2]
                before[list_id] = {
                    "revocation": revocation, "suspension": suspension, "version": version,
                    "revocation_doc": bytes(row[3]), "suspension_doc": bytes(row[4]),
                }  # fmt: skip
                for _, lid, index in creds:
                    if lid == list_id:
                        revocation = set_status(revocation, index, status == "revoked")
                        suspension = set_status(suspension, index, status == "suspended")
                rev_doc = _sign_list(issuer, list_id, "revocation", version + 1, revocation)
                susp_doc = _sign_list(issuer, list_id, "suspension", version + 1, suspension)
                after[list_id] = {
                    "revocation": revocation, "suspension": suspension, "version": version + 1,
                    "revocation_doc": rev_doc, "suspension_doc": susp_doc,
                }  # fmt: skip
                entries.append(_published(list_id, "revocation", version + 1, rev_doc))
                entries.append(_published(list_id, "suspension", version + 1, susp_doc))

        def swap(conn: Connection, old: dict, new: dict, doc_from: str, doc_to: str) -> None:  # type: ignore[type-arg]
            for list_id, values in new.items():
                done = conn.execute(
                    update(StatusListRow)
                    .where(
                        StatusListRow.id == list_id,
                        StatusListRow.version == old[list_id]["version"],
                    )
                    .values(**values)
                )
                if done.rowcount != 1:
                    raise ConflictError("the status list changed meanwhile; try again")
            conn.execute(
                update(DocumentRow)
                .where(DocumentRow.id == document_id, DocumentRow.status == doc_from)
                .values(status=doc_to)
            )

        with writing(ctx.engine) as conn:
            swap(conn, before, after, current, status)
        return _log_or_undo(
            ctx, issuer, entries, undo=lambda conn: swap(conn, after, before, status, current)
        )


def status_list_ids(ctx: IdentityContext) -> list[str]:
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(StatusListRow.id).order_by(StatusListRow.id)).scalars())


def status_list_documents(ctx: IdentityContext, list_id: str) -> tuple[str, int, bytes, bytes]:
    """(issuer id, version, revocation document, suspension document) of one list."""
    with ctx.engine.connect() as conn:
        row = conn.execute(
            select(
                StatusListRow.issuer_id,
                StatusListRow.version,
                StatusListRow.revocation_doc,
                StatusListRow.suspension_doc,
            ).where(StatusListRow.id == list_id)
        ).first()
    if row is None:
        raise NotFoundError("no such status list")
    return row[0], row[1], bytes(row[2]), bytes(row[3])
