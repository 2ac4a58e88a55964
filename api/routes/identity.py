"""Consulates, nationals and their credentials: the officer's and supervisor's API.

Every response model is separate from the tables, so no key material or stored ciphertext can
leak through one; personal data appears only in answers to officers and supervisors, and in
the credential offer handed to the officer for the holder's wallet.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.routes.presentations import forget_snapshot
from api.security import require_role
from ledger.errors import MalformedError
from ledger.formats.offer import encode_offer_json, seal_offer, wallet_box
from ledger.services import credentials, issuers, subjects, trust_service
from ledger.store.tokens import Caller, create_token

router = APIRouter(prefix="/v1", tags=["identity"])

Operator = Annotated[Caller, Depends(require_role("operator"))]
Officer = Annotated[Caller, Depends(require_role("officer"))]
Reader = Annotated[Caller, Depends(require_role("officer", "supervisor"))]
Supervisor = Annotated[Caller, Depends(require_role("supervisor"))]
HistoryReader = Annotated[Caller, Depends(require_role("subject", "supervisor"))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssuerIn(Strict):
    state: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3")
    name: str = Field(min_length=1, max_length=200, examples=["Consulate of Mexico in Madrid"])
    ciphersuite: Literal["BLS12-381-SHA-256", "BLS12-381-SHAKE-256"] = "BLS12-381-SHA-256"


class StateRootIn(Strict):
    state: str = Field(pattern=r"^[A-Z]{3}$")
    name: str = Field(min_length=1, max_length=200)
    public_key: str = Field(description="base64 Ed25519 public key")


class SubjectIn(Strict):
    issuer_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    record: dict[str, Any]


class SubjectOut(BaseModel):
    subject: str
    issuer_id: str
    log_index: int
    subject_token: str = Field(description="the subject's own token: their access history")


class IssueIn(Strict):
    document_number: str = Field(min_length=1, max_length=40)
    expiry_months: int = Field(60, ge=1, le=120)
    batch: int = Field(5, ge=1, le=10)
    wallet_key: str | None = Field(
        None,
        description="the holder's wallet device key (base64, `consular-wallet key`): the offer "
        "QR is sealed to it. Without it no QR is made, only the JSON offer.",
    )


class StatusOut(BaseModel):
    document_id: str
    status: str
    log_indexes: list[int]


def _ctx(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.runtime.identity


@router.post("/issuers", status_code=201)
async def create_issuer(body: IssuerIn, request: Request, _caller: Operator) -> dict[str, str]:
    """New issuer keys for a consulate hosted here; its state's root must certify them."""
    public = await run_in_threadpool(
        issuers.create_issuer,
        _ctx(request),
        state=body.state,
        name=body.name,
        ciphersuite=body.ciphersuite,
    )
    return public.as_json()


@router.get("/issuers/{issuer_id}")
async def get_issuer(issuer_id: str, request: Request) -> dict[str, str]:
    """An issuer's public keys (what its state root certifies)."""
    public = await run_in_threadpool(issuers.issuer_public, _ctx(request), issuer_id)
    return public.as_json()


@router.post("/trust/roots", status_code=201)
async def add_root(body: StateRootIn, request: Request, _caller: Operator) -> dict[str, int]:
    """Admit a state's root key to the trust list (an operator decision, logged)."""
    try:
        key = base64.b64decode(body.public_key, validate=True)
    except binascii.Error:
        raise MalformedError("public_key must be base64") from None
    index = await run_in_threadpool(
        trust_service.add_state_root,
        _ctx(request),
        state=body.state,
        name=body.name,
        public_key=key,
    )
    return {"log_index": index}


@router.get("/trust-list")
async def trust_list(request: Request) -> Response:
    """The trust list, signed by the operator; verifiers cache it and check its age."""
    document = await run_in_threadpool(trust_service.trust_list_document, _ctx(request))
    return Response(
        document, media_type="application/json", headers={"Cache-Control": "public, max-age=60"}
    )


@router.post("/subjects", status_code=201, response_model=SubjectOut)
async def register(body: SubjectIn, request: Request, caller: Officer) -> SubjectOut:
    """Register a national: the record is stored encrypted; the log gets a pseudonym only."""
    record = subjects.parse_record(body.record)
    ctx = _ctx(request)
    done = await run_in_threadpool(subjects.register_subject, ctx, caller, record, body.issuer_id)
    token = await run_in_threadpool(
        lambda: create_token(ctx.engine, "subject", "subject's own", subject_id=done.subject)
    )
    return SubjectOut(
        subject=done.subject,
        issuer_id=done.issuer_id,
        log_index=done.log_index,
        subject_token=token,
    )


@router.get("/subjects/{subject}")
async def read(
    subject: str,
    request: Request,
    caller: Reader,
    purpose: Annotated[str, Query(description=f"one of {', '.join(subjects.PURPOSES)}")],
) -> dict[str, Any]:
    """The personal record; the read is logged (who, which pseudonym, why) before it answers."""
    record = await run_in_threadpool(subjects.read_subject, _ctx(request), caller, subject, purpose)
    return {"subject": subject, "record": record.model_dump(exclude_none=True)}


@router.delete("/subjects/{subject}/personal-data", status_code=200)
async def erase(subject: str, request: Request, caller: Supervisor) -> dict[str, int]:
    """Crypto-shred the record: log the erasure, destroy the data key. Proofs stay valid."""
    index = await run_in_threadpool(subjects.erase_subject, _ctx(request), caller, subject)
    return {"log_index": index}


@router.get("/subjects/{subject}/access-history")
async def history(subject: str, request: Request, caller: HistoryReader) -> dict[str, Any]:
    """Who read this record, when and why: for the subject (their own token) or a supervisor."""
    events = await run_in_threadpool(subjects.access_history, _ctx(request), caller, subject)
    return {"subject": subject, "events": events}


@router.post("/subjects/{subject}/credentials", status_code=201)
async def issue(subject: str, body: IssueIn, request: Request, caller: Officer) -> dict[str, Any]:
    """Issue a consular ID as a batch of BBS credentials; answers with the wallet offer."""
    wallet_key = None
    if body.wallet_key is not None:
        try:
            wallet_key = base64.b64decode(body.wallet_key, validate=True)
        except binascii.Error:
            raise MalformedError("wallet_key must be base64") from None
        wallet_box(wallet_key)  # refuse a bad key before anything is issued
    done = await run_in_threadpool(
        lambda: credentials.issue_document(
            _ctx(request),
            caller,
            subject,
            document_number=body.document_number,
            expiry_months=body.expiry_months,
            batch=body.batch,
        )
    )
    answer: dict[str, Any] = {
        "document_id": done.document_id,
        "log_indexes": done.log_indexes,
        "offer": json.loads(encode_offer_json(done.offer)),
    }
    if wallet_key is not None:
        answer["offer_qr"] = seal_offer(done.offer, wallet_key)
    return answer


async def _status(request: Request, caller: Caller, document_id: str, status: str) -> StatusOut:
    indexes = await run_in_threadpool(
        credentials.change_status, _ctx(request), caller, document_id, status
    )
    forget_snapshot(_ctx(request))  # the online verifier must see the change at once
    return StatusOut(document_id=document_id, status=status, log_indexes=indexes)


@router.post("/credentials/{document_id}/revoke", response_model=StatusOut)
async def revoke(document_id: str, request: Request, caller: Officer) -> StatusOut:
    """Revoke every credential of the document (final)."""
    return await _status(request, caller, document_id, "revoked")


@router.post("/credentials/{document_id}/suspend", response_model=StatusOut)
async def suspend(document_id: str, request: Request, caller: Officer) -> StatusOut:
    return await _status(request, caller, document_id, "suspended")


@router.post("/credentials/{document_id}/reinstate", response_model=StatusOut)
async def reinstate(document_id: str, request: Request, caller: Officer) -> StatusOut:
    return await _status(request, caller, document_id, "active")


@router.get("/status-lists")
async def status_lists(request: Request) -> dict[str, list[str]]:
    ids = await run_in_threadpool(credentials.status_list_ids, _ctx(request))
    return {"lists": ids}


@router.get("/status-lists/{list_id}")
async def status_list(list_id: str, request: Request) -> Response:
    """Both signed documents (revocation, suspension) of one list, base64; cacheable briefly."""
    issuer_id, version, revocation, suspension = await run_in_threadpool(
        credentials.status_list_documents, _ctx(request), list_id
    )
    body = {
        "id": list_id,
        "issuer_id": issuer_id,
        "version": version,
        "revocation": base64.b64encode(revocation).decode(),
        "suspension": base64.b64encode(suspension).decode(),
    }
    return Response(
        json.dumps(body),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=60", "ETag": f'"{list_id}-{version}"'},
    )
