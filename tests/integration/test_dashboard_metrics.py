"""The `temporal_*` series the dashboard and the alerts use, held to what a real worker's
Temporal SDK exports (the `chat_*` ones are checked against foundations/metrics.py in
tests/unit/test_compose.py)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.chat_client import connect
from tests.monitoring import PROMETHEUS_LABELS, shipped_queries
from tests.stack import RunningStack

pytestmark = pytest.mark.integration


async def test_every_temporal_series_the_dashboard_and_alerts_use_is_exported(
    stack: RunningStack,
) -> None:
    # One turn, so the latency histograms of activities and workflow tasks have samples.
    async with connect(stack.ws_url, "/api/ws/guide") as client:
        await client.recv_type("conversation_restored")
        await client.turn("Hello there", "dashboard-metrics")
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"http://127.0.0.1:{stack.temporal_metrics_port}/metrics")
    response.raise_for_status()
    # name -> label -> the values seen
    scraped: dict[str, dict[str, set[str]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = scraped.setdefault(sample.name, {})
            for label, value in sample.labels.items():
                labels.setdefault(label, set()).add(value)

    used = [q for q in shipped_queries() if any(m.startswith("temporal_") for m in q.metrics)]
    assert used, "the dashboard shows no Temporal SDK metric (worker slots, at least)"
    for query in used:
        for name in query.metrics:
            if name.startswith("temporal_"):
                assert name in scraped, f"{query.where}: the worker does not export {name}"
        for name, label, operator, value in query.matchers:
            if name.startswith("temporal_"):
                assert label in scraped[name], f"{query.where}: {name} has no label {label}"
                if operator == "=":
                    assert value in scraped[name][label], f"{query.where}: {label}={value}"
        temporal_labels = set().union(
            *(scraped[n] for n in query.metrics if n.startswith("temporal_"))
        )
        if query.metrics <= set(scraped):
            assert query.grouping_labels <= temporal_labels | PROMETHEUS_LABELS, query.where
