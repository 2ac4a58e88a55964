"""The log's JSON API: append (authenticated), and the reads an auditor or client needs."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.security import require_role
from ledger import merkle
from ledger.entries import registered_types
from ledger.errors import (
    LedgerError,
    MalformedError,
    NotFoundError,
    TooLargeError,
    UnavailableError,
)
from ledger.formats.entry import MAX_ENTRY_BYTES
from ledger.store.log_store import Integrated
from ledger.store.tokens import Caller

router = APIRouter(prefix="/v1/log", tags=["log"])

MAX_PAGE = 1000
MAX_INDEX = 2**63 - 1  # the database's BIGINT
Writer = Annotated[Caller, Depends(require_role("operator", "officer"))]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CheckpointOut(BaseModel):
    origin: str
    size: int
    root: str
    note: str


class AppendOut(BaseModel):
    index: int
    leaf_hash: str
    tree_size: int
    checkpoint: str
    duplicate: bool
    inclusion_proof: list[str] | None = None


class ProofOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[str]


class EntryOut(BaseModel):
    index: int
    leaf_hash: str
    entry: dict[str, Any]


class EntriesOut(BaseModel):
    start: int
    entries: list[EntryOut]


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_ENTRY_BYTES:
        raise TooLargeError(f"entry too large: {declared} bytes, the limit is {MAX_ENTRY_BYTES}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ENTRY_BYTES:
            raise TooLargeError(f"entry too large: over {MAX_ENTRY_BYTES} bytes")
    return bytes(body)


@router.post(
    "/entries",
    status_code=201,
    response_model=AppendOut,
    responses={200: {"description": "the same entry was already in the log"}},
)
async def append_entry(
    request: Request,
    _role: Writer,
    proof: Annotated[bool, Query(description="include the inclusion proof")] = False,
) -> JSONResponse:
    """Append one signed entry (its JSON as the request body).

    Answers only once the entry is durable and covered by a signed checkpoint: the response
    carries its index and that checkpoint (and the inclusion proof with ``?proof=true``). An
    entry already in the log answers 200 with its existing index, so retries are safe.
    """
    service = request.app.state.log
    data = await _read_body(request)
    try:
        admitted = await run_in_threadpool(service.admit, data)
        future = service.submit(admitted)
        timeout = request.app.state.settings.append_timeout_s
        outcome: Integrated = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    except TimeoutError:
        raise UnavailableError("the entry was not integrated in time; retry later") from None
    except LedgerError as exc:
        request.app.state.metrics.rejections.labels(type(exc).__name__).inc()
        raise
    store = service.store
    checkpoint = await run_in_threadpool(store.checkpoint, outcome.checkpoint_size)
    body = AppendOut(
        index=outcome.index,
        leaf_hash=_b64(outcome.leaf_hash),
        tree_size=checkpoint.size,
        checkpoint=checkpoint.note,
        duplicate=outcome.duplicate,
    )
    if proof:
        path = await run_in_threadpool(store.inclusion_proof, outcome.index, checkpoint.size)
        body.inclusion_proof = [_b64(node) for node in path]
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=200 if outcome.duplicate else 201,
        headers={"Location": f"/v1/log/entries/{outcome.index}"},
    )


@router.get("/checkpoint", response_model=CheckpointOut)
async def checkpoint(request: Request) -> CheckpointOut:
    """The latest checkpoint, decoded, with the signed note it came from."""
    latest = await run_in_threadpool(request.app.state.log.store.latest_checkpoint)
    if latest is None:
        raise NotFoundError("the log has no checkpoint yet")
    origin = request.app.state.log.config.origin
    return CheckpointOut(origin=origin, size=latest.size, root=_b64(latest.root), note=latest.note)


@router.get("/vkey", response_class=PlainTextResponse)
async def vkey(request: Request) -> str:
    """The log's verifier key in C2SP signed-note form."""
    return request.app.state.log.vkey + "\n"


@router.get("/types")
async def types() -> dict[str, list[str]]:
    """The entry types this log accepts."""
    return {"types": list(registered_types())}


def _parse_hash(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise MalformedError("leaf_hash must be base64") from None
    if len(raw) != 32:
        raise MalformedError(f"leaf_hash must be 32 bytes, got {len(raw)}")
    return raw


@router.get("/proof/inclusion", response_model=ProofOut)
async def inclusion(
    request: Request,
    index: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None,
    leaf_hash: Annotated[str | None, Query(description="base64 leaf hash")] = None,
    tree_size: Annotated[
        int | None, Query(ge=1, le=MAX_INDEX, description="default: the latest")
    ] = None,
) -> ProofOut:
    """Inclusion proof of one entry, by index or by leaf hash."""
    store = request.app.state.log.store
    if (index is None) == (leaf_hash is None):
        raise MalformedError("give exactly one of index or leaf_hash")
    if leaf_hash is not None:
        index = await run_in_threadpool(store.index_of, _parse_hash(leaf_hash))
    assert index is not None
    size = tree_size if tree_size is not None else await run_in_threadpool(store.size)
    proof = await run_in_threadpool(store.inclusion_proof, index, size)
    leaf = await run_in_threadpool(store.leaf_hash, index)
    return ProofOut(
        index=index, tree_size=size, leaf_hash=_b64(leaf), proof=[_b64(p) for p in proof]
    )


@router.get("/proof/consistency", response_model=ConsistencyOut)
async def consistency(
    request: Request,
    first: Annotated[int, Query(ge=1, le=MAX_INDEX)],
    second: Annotated[
        int | None, Query(ge=1, le=MAX_INDEX, description="default: the latest")
    ] = None,
) -> ConsistencyOut:
    """Consistency proof between two sizes of this log (RFC 9162 §2.1.4)."""
    store = request.app.state.log.store
    size = second if second is not None else await run_in_threadpool(store.size)
    proof = await run_in_threadpool(store.consistency_proof, first, size)
    return ConsistencyOut(first=first, second=size, proof=[_b64(p) for p in proof])


def _entry_out(index: int, data: bytes) -> EntryOut:
    return EntryOut(index=index, leaf_hash=_b64(merkle.leaf_hash(data)), entry=json.loads(data))


@router.get("/entries", response_model=EntriesOut)
async def entries(
    request: Request,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
    end: Annotated[
        int | None, Query(ge=1, le=MAX_INDEX, description=f"exclusive; at most {MAX_PAGE} entries")
    ] = None,
) -> EntriesOut:
    """A range of entries in log order."""
    store = request.app.state.log.store
    if end is None:
        end = min(start + MAX_PAGE, await run_in_threadpool(store.size))
    if end - start > MAX_PAGE:
        raise MalformedError(f"at most {MAX_PAGE} entries per request")
    data = await run_in_threadpool(store.entries, start, end)
    return EntriesOut(start=start, entries=[_entry_out(start + i, d) for i, d in enumerate(data)])


@router.get("/entries/{index}", response_model=EntryOut)
async def entry(request: Request, index: int) -> EntryOut:
    """One entry by index."""
    if index < 0:
        raise MalformedError("index must be ≥ 0")
    store = request.app.state.log.store
    size = await run_in_threadpool(store.size)
    if index >= size:
        raise NotFoundError(f"no entry at index {index}; the log has {size}")
    (data,) = await run_in_threadpool(store.entries, index, index + 1)
    return _entry_out(index, data)


__all__ = ["router"]
