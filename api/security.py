"""Bearer-token authentication and role checks, declared once and used as route dependencies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.problems import AuthError
from ledger.errors import ForbiddenError
from ledger.store.tokens import Caller, token_caller

__all__ = ["require_role"]


def require_role(*roles: str) -> Callable[[Request], Coroutine[Any, Any, Caller]]:
    """A dependency that admits a caller whose token has one of ``roles``; returns the caller."""

    async def dependency(request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("a bearer token is required")
        caller = await run_in_threadpool(token_caller, request.app.state.engine, token.strip())
        if caller is None:
            raise AuthError("unknown or revoked token")
        if caller.role not in roles:
            raise ForbiddenError(f"this needs the role {' or '.join(roles)}")
        return caller

    return dependency
