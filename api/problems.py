"""Errors become RFC 9457 problem responses here, and only here.

Routes raise ledger errors; this module maps each class to a status and a problem type. Details
are the error's own message, which by the ledger's rules never holds personal data or secrets;
anything unexpected becomes a bare 500 with no detail (and is logged by type only).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    LedgerError,
    MalformedError,
    NotFoundError,
    TooLargeError,
    UnavailableError,
    VerificationError,
)

__all__ = ["PROBLEM_JSON", "AuthError", "install_problem_handlers", "problem"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("consular_ledger.api")

# Most specific first: the first matching class decides.
_MAPPING: list[tuple[type[LedgerError], int, str, str]] = [
    (TooLargeError, 413, "too-large", "Content too large"),
    (MalformedError, 400, "malformed", "Malformed input"),
    (VerificationError, 422, "verification-failed", "Verification failed"),
    (GoneError, 410, "gone", "Gone"),
    (NotFoundError, 404, "not-found", "Not found"),
    (ForbiddenError, 403, "forbidden", "Forbidden"),
    (ConflictError, 409, "conflict", "Conflict"),
    (UnavailableError, 503, "unavailable", "Service unavailable"),
]


class AuthError(Exception):
    """Missing or unknown bearer token (401)."""


def problem(status: int, slug: str, title: str, detail: str | None = None) -> JSONResponse:
    """A problem+json response; ``type`` is a stable URN per kind of problem."""
    body: dict[str, object] = {"type": f"urn:consular-ledger:problem:{slug}", "title": title}
    body["status"] = status
    if detail:
        body["detail"] = detail
    headers = {"Retry-After": "1"} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="consular-ledger"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_for(exc: LedgerError) -> JSONResponse:
    for kind, status, slug, title in _MAPPING:
        if isinstance(exc, kind):
            return problem(status, slug, title, str(exc))
    log.error("unmapped ledger error", extra={"error": type(exc).__name__})
    return problem(500, "internal", "Internal error")


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error to a problem response."""

    @app.exception_handler(LedgerError)
    async def _ledger(_request: Request, exc: LedgerError) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(AuthError)
    async def _auth(_request: Request, exc: AuthError) -> JSONResponse:
        return problem(401, "unauthorized", "Unauthorized", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return problem(400, "malformed", "Malformed input", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Content too large"}
        slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            exc.status_code, "http"
        )
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(exc.status_code, slug, titles.get(exc.status_code, "Error"), detail)

    @app.exception_handler(IntegrityError)
    async def _race(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("concurrent change refused", extra={"error": type(exc.orig).__name__})
        return problem(
            409, "conflict", "Conflict", "a concurrent change got there first; try again"
        )

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable", extra={"error": type(exc.orig).__name__})
        return problem(503, "unavailable", "Service unavailable", "the database is unavailable")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", extra={"error": type(exc).__name__})
        return problem(500, "internal", "Internal error")
