"""Online verification, for verifiers who prefer it to the offline app: the same checks as
``consular-wallet verify``, on the service's current trust list and status lists."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ledger.services import credentials, trust_service
from ledger.services.context import IdentityContext
from ledger.store.replay import DatabaseReplayStore
from wallet.trust_cache import CacheSnapshot, StatusEntry, check_status_documents
from wallet.verifier import verify_payload

router = APIRouter(prefix="/v1", tags=["presentations"])

_SNAPSHOT_TTL_S = 10.0
_LOCK = threading.Lock()


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload: str = Field(min_length=1, max_length=8000, description="the CL1: text of the QR")
    challenge: str | None = Field(None, max_length=64, description="the challenge you gave")


class VerdictOut(BaseModel):
    valid: bool
    code: str
    message: str
    issuer: str | None
    attributes: dict[str, str]
    trust_age_s: float | None
    status_age_s: float | None


def _snapshot(ctx: IdentityContext) -> CacheSnapshot:
    with _LOCK:
        cached = ctx._cache.get("verify_snapshot")
        if cached and time.monotonic() - cached[0] < _SNAPSHOT_TTL_S:
            return cached[1]
    now = datetime.now(UTC)
    trust = trust_service.current_trust(ctx)
    status: dict[str, StatusEntry] = {}
    for list_id in credentials.status_list_ids(ctx):
        issuer_id, _, revocation, suspension = credentials.status_list_documents(ctx, list_id)
        rev, sus = check_status_documents(trust, list_id, issuer_id, revocation, suspension)
        status[list_id] = StatusEntry(list_id, issuer_id, rev, sus, now)
    snapshot = CacheSnapshot(trust, now, status, ctx.operator.public_key)
    with _LOCK:
        ctx._cache["verify_snapshot"] = (time.monotonic(), snapshot)
    return snapshot


def forget_snapshot(ctx: IdentityContext) -> None:
    """Drop the cached snapshot (after a status or trust change on this instance)."""
    with _LOCK:
        ctx._cache.pop("verify_snapshot", None)


@router.post("/presentations/verify", response_model=VerdictOut)
async def verify(body: VerifyIn, request: Request) -> VerdictOut:
    """Verify a presentation payload; 200 with a verdict, valid or not (each failure its code)."""
    ctx: IdentityContext = request.app.state.runtime.identity

    def run() -> Any:
        return verify_payload(
            body.payload,
            _snapshot(ctx),
            now=datetime.now(UTC),
            expected_challenge=body.challenge,
            max_trust_age=timedelta(hours=1),
            max_status_age=timedelta(minutes=5),
            replay=DatabaseReplayStore(ctx.engine),
        )

    verdict = await run_in_threadpool(run)
    return VerdictOut(**verdict.__dict__)
