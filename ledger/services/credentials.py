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
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, select, update

from ledger.crypto import bbs
from ledger.errors import ConflictError, MalformedError, NotFoundError
from ledger.formats.credential import CredentialAttributes, age_over, credential_header
from ledger.formats.entry import format_time
from ledger.formats.offer import Offer, OfferedCredential, split_attributes
from ledger.formats.status_list import (
    DEFAULT_SIZE,
    StatusList,
    encode_status_list,
    new_bits,
    set_status,
)
from ledger.services.context import IdentityContext, new_pseudonym, now_utc
from ledger.services.issuers import IssuerSecrets, issuer_secrets
from ledger.services.subjects import _check_scope, record_for_issuance
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


def _reserve(
    ctx: IdentityContext, issuer: IssuerSecrets, count: int
) -> tuple[str, list[int], bool, bytes, bytes]:
    """Pick ``count`` fresh random indexes in the issuer's current list (creating one if needed)."""
    issuer_id = issuer.public.issuer_id
    with writing(ctx.engine) as conn:
        row = conn.execute(
            select(StatusListRow.id, StatusListRow.used)
            .where(StatusListRow.issuer_id == issuer_id, StatusListRow.used + count <= _MAX_FILL)
            .order_by(StatusListRow.id)
            .limit(1)
        ).first()
        created = row is None
        if created:
            n = conn.execute(
                select(StatusListRow.id).where(StatusListRow.issuer_id == issuer_id)
            ).all()
            list_id = f"{issuer_id[:12]}-{len(n) + 1}"
            empty = new_bits()
            revocation = _sign_list(issuer, list_id, "revocation", 1, empty)
            suspension = _sign_list(issuer, list_id, "suspension", 1, empty)
            conn.execute(
                insert(StatusListRow).values(
                    id=list_id,
                    issuer_id=issuer_id,
                    size=DEFAULT_SIZE,
                    used=0,
                    version=1,
                    revocation=empty,
                    suspension=empty,
                    revocation_doc=revocation,
                    suspension_doc=suspension,
                )
            )
        else:
            list_id = row[0]
            revocation = suspension = b""
        taken = set(
            conn.execute(
                select(CredentialRow.status_index).where(CredentialRow.status_list_id == list_id)
            ).scalars()
        )
        picked: list[int] = []
        while len(picked) < count:
            index = secrets.randbelow(DEFAULT_SIZE)
            if index not in taken:
                taken.add(index)
                picked.append(index)
        conn.execute(
            update(StatusListRow)
            .where(StatusListRow.id == list_id)
            .values(used=StatusListRow.used + count)
        )
    return list_id, picked, created, revocation, suspension


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
    """Issue a consular ID to a registered subject as ``batch`` BBS credentials."""
    if not 1 <= batch <= 10:
        raise MalformedError("batch must be 1..10 credentials")
    if not 1 <= expiry_months <= 120:
        raise MalformedError("expiry_months must be 1..120")
    if not 1 <= len(document_number) <= 40 or not document_number.isprintable():
        raise MalformedError("document_number must be 1..40 printable characters")
    issuer_id, record = record_for_issuance(ctx, caller, subject)
    issuer = issuer_secrets(ctx, issuer_id)
    on = today or now_utc().date()
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
    with _LIST_LOCK:
        list_id, indexes, created, rev_doc, susp_doc = _reserve(ctx, issuer, batch)
    document_id = new_pseudonym()
    header = credential_header()
    offered: list[OfferedCredential] = []
    entries: list[tuple[str, dict[str, object]]] = []
    rows: list[dict[str, object]] = []
    for index in indexes:
        attrs = CredentialAttributes(**common, status_list_id=list_id, status_index=str(index))
        signature = bbs.sign(
            issuer.bbs_secret,
            issuer.public.bbs_public_key,
            header,
            attrs.messages(),
            ciphersuite=issuer.suite,
        )
        credential_id = new_pseudonym()
        commitment = credential_commitment(signature)
        offered.append(OfferedCredential(credential_id, list_id, index, signature))
        rows.append(
            {
                "id": credential_id,
                "document_id": document_id,
                "status_list_id": list_id,
                "status_index": index,
            }
        )
        entries.append(
            (
                "credential.issued",
                {
                    "credential": credential_id,
                    "commitment": commitment,
                    "status_list": list_id,
                    "status_index": index,
                },
            )
        )
    if created:
        for purpose, doc in (("revocation", rev_doc), ("suspension", susp_doc)):
            entries.append(
                (
                    "status_list.published",
                    {
                        "status_list": list_id,
                        "purpose": purpose,
                        "version": 1,
                        "sha256": _digest(doc),
                    },
                )
            )
    with writing(ctx.engine) as conn:
        conn.execute(
            insert(DocumentRow).values(
                id=document_id,
                subject_id=subject,
                issuer_id=issuer_id,
                status="active",
                issued_at=format_time(now_utc()),
            )
        )
        conn.execute(insert(CredentialRow), rows)
    try:
        log_indexes = ctx.append(issuer.list_key, entries)
    except BaseException:
        with writing(ctx.engine) as conn:  # the log refused: the document was never issued
            conn.execute(delete(CredentialRow).where(CredentialRow.document_id == document_id))
            conn.execute(delete(DocumentRow).where(DocumentRow.id == document_id))
        raise
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
    """Set a document's status (revoked is final); flips every credential of the batch."""
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
    with _LIST_LOCK:
        lists = {list_id for _, list_id, _ in creds}
        updates: dict[str, dict[str, object]] = {}
        entries: list[tuple[str, dict[str, object]]] = [
            ("credential.status_changed", {"credential": cid, "status": status})
            for cid, _, _ in creds
        ]
        with ctx.engine.connect() as conn:
            for list_id in sorted(lists):
                row = conn.execute(
                    select(
                        StatusListRow.revocation, StatusListRow.suspension, StatusListRow.version
                    ).where(StatusListRow.id == list_id)
                ).one()
                revocation, suspension, version = bytes(row[0]), bytes(row[1]), row[2]
                for _, lid, index in creds:
                    if lid != list_id:
                        continue
                    revocation = set_status(revocation, index, status == "revoked")
                    suspension = set_status(suspension, index, status == "suspended")
                new_version = version + 1
                rev_doc = _sign_list(issuer, list_id, "revocation", new_version, revocation)
                susp_doc = _sign_list(issuer, list_id, "suspension", new_version, suspension)
                updates[list_id] = {
                    "revocation": revocation,
                    "suspension": suspension,
                    "version": new_version,
                    "revocation_doc": rev_doc,
                    "suspension_doc": susp_doc,
                    "_old": version,
                }
                for purpose, doc_bytes in (("revocation", rev_doc), ("suspension", susp_doc)):
                    entries.append(
                        (
                            "status_list.published",
                            {
                                "status_list": list_id,
                                "purpose": purpose,
                                "version": new_version,
                                "sha256": _digest(doc_bytes),
                            },
                        )
                    )
        indexes = ctx.append(issuer.list_key, entries)
        with writing(ctx.engine) as conn:
            for list_id, values in updates.items():
                old = values.pop("_old")
                done = conn.execute(
                    update(StatusListRow)
                    .where(StatusListRow.id == list_id, StatusListRow.version == old)
                    .values(**values)
                )
                if done.rowcount != 1:
                    raise ConflictError("the status list changed meanwhile; try again")
            conn.execute(
                update(DocumentRow).where(DocumentRow.id == document_id).values(status=status)
            )
    return indexes


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
