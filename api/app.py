"""The FastAPI application factory.

Example::

    app = create_app(load_settings(Path("var"), dev=True))
    # uvicorn.run(app) — or `consular-ledger serve`
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings
from api.metrics import Metrics
from api.problems import install_problem_handlers
from api.routes import identity as identity_routes
from api.routes import log as log_routes
from api.routes import presentations as presentation_routes
from api.routes import tiles as tile_routes
from api.runtime import start_runtime

__all__ = ["create_app"]

access = logging.getLogger("consular_ledger.http")


def create_app(settings: Settings) -> FastAPI:
    """An app serving one log; the database, keys and sequencer open when it starts."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = start_runtime(settings, on_batch=_observer(metrics))
        app.state.runtime = runtime
        app.state.engine = runtime.engine
        app.state.log = runtime.log
        app.state.settings = settings
        app.state.metrics = metrics
        metrics.tree_size.set_function(runtime.log.store.size)
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="Consular Ledger",
        version="0.1.0",
        summary="A signed, append-only RFC 9162 log of identity and consent statements.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(log_routes.router)
    app.include_router(tile_routes.router)
    app.include_router(identity_routes.router)
    app.include_router(presentation_routes.router)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(_AccessLog, metrics=metrics)
    return app


class _AccessLog:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs ~20% of a busy event loop):
    one structured line per request — method, route template, status, time; never a path
    with values in it, a body or a header."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if status >= 400:
                self.metrics.http_errors.labels(str(status)).inc()
            access.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": getattr(scope.get("route"), "path", "unmatched"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )


def _observer(metrics: Metrics):  # type: ignore[no-untyped-def]
    def observe(latencies: list[float]) -> None:
        metrics.appends.inc(len(latencies))
        metrics.observe_batch(latencies)

    return observe
