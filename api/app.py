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

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

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

    @app.middleware("http")
    async def observe(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        if response.status_code >= 400:
            metrics.http_errors.labels(str(response.status_code)).inc()
        access.info(
            "request",
            extra={
                "method": request.method,
                "route": template,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response

    return app


def _observer(metrics: Metrics):  # type: ignore[no-untyped-def]
    def observe(latencies: list[float]) -> None:
        metrics.appends.inc(len(latencies))
        metrics.observe_batch(latencies)

    return observe
