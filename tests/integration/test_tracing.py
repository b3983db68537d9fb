"""Traces on the real servers: each turn is one connected trace from the socket frame to the
Redis writes of its reply.

The spans of the edge and of the worker must land in one exporter the test can read, so the
test runs its own API (a real uvicorn) and worker in its process, against the shared stack's
Temporal dev server and Redis, with a replay-safe tracer provider writing to an in-memory
exporter. Everything between them is real: the WebSocket, the workflow update with its trace
headers, the activities on the worker, Redis.
"""

from __future__ import annotations

import asyncio
import gc
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider, create_tracer_provider

from foundations.clients import open_redis
from foundations.settings import Settings
from foundations.tracing import temporal_plugins
from tests.conftest import app_data_converter
from tests.integration.chat_client import connect
from tests.integration.custom_edge import serve_edge, settings_for
from tests.stack import RunningStack
from workers.composition import chat_worker

pytestmark = pytest.mark.integration

# What every turn's trace must hold, beyond the edge's span: the update on the worker, each
# activity of the turn, and the Redis writes (the user message, the chunks, the reply).
TURN_SPANS = {
    "HandleUpdate:submit_message",
    "RunActivity:admit_message",
    "RunActivity:record_user_message",
    "RunActivity:route",
    "RunActivity:generate_reply",
    "RunActivity:record_reply",
    "redis record",
    "redis publish",
}


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider, exporting to memory.

    OpenTelemetry lets a process install its provider once; later tests in this process keep
    it, and the exporter, shut down, drops what they trace.
    """
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, ReplaySafeTracerProvider):
        provider = create_tracer_provider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


@asynccontextmanager
async def traced_worker(settings: Settings) -> AsyncIterator[None]:
    redis_client = open_redis(settings)
    client = await Client.connect(
        settings.temporal_address,
        plugins=temporal_plugins(),
        data_converter=app_data_converter(settings, redis_client),
    )
    try:
        async with chat_worker(client, redis_client, settings):
            yield
    finally:
        await redis_client.aclose()


def by_trace(spans: tuple[ReadableSpan, ...]) -> dict[int, list[ReadableSpan]]:
    traces: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        assert span.context is not None
        traces[span.context.trace_id].append(span)
    return traces


def assert_connected(spans: list[ReadableSpan]) -> None:
    """Every span but the root has its parent in the same trace: one tree, no orphans."""
    ids = {span.context.span_id for span in spans if span.context is not None}
    roots = [span for span in spans if span.parent is None or span.parent.span_id not in ids]
    assert [root.name for root in roots] == ["chat_message"], "the trace is not one tree"


async def wait_for_replies_recorded(exporter: InMemorySpanExporter, turns: int) -> None:
    """Span ends trail the frames the client sees by a moment; wait for them, bounded."""
    async with asyncio.timeout(15):
        while True:
            names = [span.name for span in exporter.get_finished_spans()]
            if names.count("RunActivity:record_reply") >= turns:
                return
            await asyncio.sleep(0.1)


async def test_each_turn_is_one_connected_trace(
    stack: RunningStack, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    # Redis connections that earlier tests dropped import modules when collected; collected
    # inside a workflow activation, that import trips the sandbox's dynamic-import warning.
    gc.collect()
    settings = settings_for(stack)
    async with serve_edge(settings) as ws_url, traced_worker(settings):
        async with connect(ws_url, "/api/ws/guide") as client:
            await client.recv_type("conversation_restored")
            first = await client.turn("How do I get started?", "trace-1")
            # Two more sent at once: the third waits behind the second in the same
            # conversation task, and must still get a trace of its own.
            await client.chat("What can the content pillar do?", "trace-2")
            await client.chat("And the insights pillar?", "trace-3")
            replies = [first]
            while len(replies) < 3:
                frame = await client.recv_type("chat_response")
                replies.append(frame)
        await wait_for_replies_recorded(exporter, turns=3)

    traces = by_trace(exporter.get_finished_spans())
    edge_roots = [
        span for spans in traces.values() for span in spans if span.name == "chat_message"
    ]
    assert len(edge_roots) == 3, "one edge span per chat_message frame"
    for root in edge_roots:
        assert root.context is not None
        spans = traces[root.context.trace_id]
        names = [span.name for span in spans]
        assert set(names) >= TURN_SPANS, f"the turn's trace lacks {TURN_SPANS - set(names)}"
        # One turn per trace: exactly one reply generated and one recorded in it.
        assert names.count("RunActivity:generate_reply") == 1
        assert names.count("RunActivity:record_reply") == 1
        assert_connected(spans)
        # The processes the trace crossed: the edge, the client call, the worker.
        kinds = {span.kind for span in spans}
        assert {trace.SpanKind.CLIENT, trace.SpanKind.SERVER} <= kinds
