"""Metrics on the real stack: after turns, the API's /metrics and the worker's metrics ports
show what happened, under the names docs and dashboards use."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.chat_client import connect
from tests.stack import RunningStack

pytestmark = pytest.mark.integration


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample at `url`, by name and labels."""
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(
        v for (n, sample_labels), v in samples.items() if n == name and wanted <= sample_labels
    )


async def test_a_turn_shows_in_the_api_and_worker_metrics(stack: RunningStack) -> None:
    api_before = scrape(f"{stack.http_url}/metrics")
    worker_url = f"http://127.0.0.1:{stack.worker_metrics_port}/metrics"
    worker_before = scrape(worker_url)

    async with connect(stack.ws_url, "/api/ws/guide") as client:
        await client.recv_type("conversation_restored")
        live = scrape(f"{stack.http_url}/metrics")
        assert value(live, "chat_live_sockets", agent_type="guide") >= 1
        await client.turn("How do I get started?", "metrics-1")
        # The same client message id again: answered as a duplicate, from workflow state.
        await client.chat("How do I get started?", "metrics-1")
        duplicate = await client.recv_type("message_accepted")
        assert duplicate.get("duplicate") is True
        await client.chat("   ", "metrics-empty")  # refused by the workflow: empty
        await client.recv_type("error")

    api = scrape(f"{stack.http_url}/metrics")

    def api_delta(name: str, **labels: str) -> float:
        return value(api, name, **labels) - value(api_before, name, **labels)

    assert api_delta("chat_messages_total", outcome="accepted") >= 1
    assert api_delta("chat_messages_total", outcome="duplicate") >= 1
    assert api_delta("chat_messages_total", outcome="refused", code="empty_message") >= 1
    assert api_delta("chat_ack_latency_seconds_count") >= 3
    # message_accepted, the chunks and chat_response all came live through the relay.
    assert api_delta("chat_relay_lag_seconds_count") >= 3
    assert value(api, "chat_live_sockets", agent_type="guide") == value(
        api_before, "chat_live_sockets", agent_type="guide"
    ), "the closed socket is still counted"

    worker = scrape(worker_url)

    def worker_delta(name: str, **labels: str) -> float:
        return value(worker, name, **labels) - value(worker_before, name, **labels)

    assert worker_delta("chat_time_to_first_chunk_seconds_count", agent_type="guide") == 1
    assert worker_delta("chat_turn_duration_seconds_count", agent_type="guide") == 1
    assert worker_delta("chat_replies_total", outcome="completed") == 1
    # The sum is the time the user waited: positive, and below the test's own timeouts.
    first_chunk = worker_delta("chat_time_to_first_chunk_seconds_sum", agent_type="guide")
    turn = worker_delta("chat_turn_duration_seconds_sum", agent_type="guide")
    assert 0 < first_chunk <= turn < 30


async def test_the_worker_exports_the_temporal_sdk_metrics(stack: RunningStack) -> None:
    async with connect(stack.ws_url, "/api/ws/guide") as client:
        await client.recv_type("conversation_restored")
        await client.turn("Hello there", "sdk-metrics")
    samples = scrape(f"http://127.0.0.1:{stack.temporal_metrics_port}/metrics")
    names = {name for name, _ in samples}
    assert value(samples, "temporal_worker_task_slots_available", worker_type="ActivityWorker") > 0
    assert value(samples, "temporal_activity_execution_latency_seconds_count") > 0
    assert value(samples, "temporal_workflow_task_execution_latency_seconds_count") > 0
    assert value(samples, "temporal_request_total") > 0
    assert "temporal_num_pollers" in names
