"""Health and metrics, outside /v1 and without authentication."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tidings_server.api.metrics import CONTENT_TYPE, Metrics
from tidings_server.runtime import Runtime
from tidings_server.store import migrate

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is current: safe to route traffic here."""
    runtime: Runtime = request.app.state.runtime
    try:
        async with runtime.engine.connect() as connection:
            revision = await connection.run_sync(migrate.current_revision)
            await connection.execute(sa.select(1))
    except Exception as exc:  # any failure to reach the database means not ready
        return JSONResponse({"status": "unavailable", "reason": str(exc)[:200]}, status_code=503)
    head = migrate.head_revision()
    if revision != head:
        return JSONResponse(
            {"status": "migrating", "schema": revision, "expected": head}, status_code=503
        )
    return JSONResponse({"status": "ready", "schema": revision})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE)
