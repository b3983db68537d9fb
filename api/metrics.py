"""Prometheus metrics of this API process."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from foundations import metrics as platform_metrics

router = APIRouter()
platform_metrics.export(platform_metrics.EDGE_METRICS)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """The process's metrics in Prometheus's text format, for a scraper."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
