"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import Edge

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


class Readiness(BaseModel):
    ready: bool
    # "ok", or why not.
    redis: str
    temporal: str


@router.get(
    "/readyz",
    responses={
        200: {"model": Readiness, "description": "Temporal and Redis both answer."},
        503: {"model": Readiness, "description": "Temporal or Redis does not answer."},
    },
)
async def readyz(edge: Edge) -> JSONResponse:
    """Temporal and Redis both answer."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(edge.redis.ping(), timeout=2)
        checks["redis"] = "ok"
    except Exception as error:  # any failure means not ready; say which
        checks["redis"] = f"unreachable: {type(error).__name__}"
    try:
        await asyncio.wait_for(edge.temporal.service_client.check_health(), timeout=2)
        checks["temporal"] = "ok"
    except Exception as error:
        checks["temporal"] = f"unreachable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)
