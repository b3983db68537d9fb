"""Traces: one per turn, from the socket frame through the workflow update, its activities and
the Redis writes, exported over OTLP/HTTP when an endpoint is configured.

With no endpoint no tracer provider is installed: OpenTelemetry's API stays a no-op, spans cost
a function call and carry no ids, Temporal calls carry no trace headers, nothing is exported.

Temporal carries the context across processes: the SDK's OpenTelemetry plugin puts it in the
headers of every update, activity and signal, and opens spans for them on the worker. It is the
plugin's interceptor rather than the older `TracingInterceptor` because the older one parents
every update to the trace of the call that started the workflow, so each later turn of a
session would land in its first turn's trace; the plugin parents an update to its own caller.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import opentelemetry.context
from opentelemetry import trace
from opentelemetry.context import Context as Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.contrib.opentelemetry import (
    OpenTelemetryPlugin,
    ReplaySafeTracerProvider,
    create_tracer_provider,
)

from foundations.settings import Settings

# The global tracer: it follows whichever provider is installed, even one installed later.
TRACER = trace.get_tracer("chat")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s trace=%(trace_id)s %(message)s"

P = ParamSpec("P")
R = TypeVar("R")


def configure_tracing(settings: Settings, service_name: str) -> bool:
    """Install an exporting tracer provider when an OTLP endpoint is set; True if it did.

    The provider is replay-safe: spans opened inside workflow code get deterministic ids and
    are not emitted again when a workflow's history is replayed.
    """
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return False
    provider = create_tracer_provider(resource=Resource.create({"service.name": service_name}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True


def shutdown_tracing() -> None:
    """Export the spans still buffered; a no-op while tracing is off."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, ReplaySafeTracerProvider):
        provider.shutdown()


def temporal_plugins() -> list[OpenTelemetryPlugin]:
    """For `Client.connect(plugins=...)`, whose workers inherit them: the tracing plugin while
    tracing is on (it needs the replay-safe provider `configure_tracing` installs), else none."""
    if not isinstance(trace.get_tracer_provider(), ReplaySafeTracerProvider):
        return []
    return [OpenTelemetryPlugin(add_temporal_spans=True)]


def traced(
    name: str, *, new_trace: bool = False
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Run a coroutine function inside a span named `name`.

    `new_trace` starts a trace of its own, linked to the active span: a socket lives for many
    turns (and its request span with it), while a trace should hold one turn.
    """

    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not new_trace:
                with TRACER.start_as_current_span(name):
                    return await function(*args, **kwargs)
            outer = trace.get_current_span().get_span_context()
            with TRACER.start_as_current_span(
                name,
                context=Context(),
                kind=trace.SpanKind.SERVER,
                links=[trace.Link(outer)] if outer.is_valid else None,
            ):
                return await function(*args, **kwargs)

        return wrapper

    return decorate


def current_context() -> Context:
    """The active trace context, to resume later with `resumed`."""
    return opentelemetry.context.get_current()


@contextmanager
def resumed(context: Context | None) -> Iterator[None]:
    """Make `context` the active one for the block (None: leave the active one)."""
    if context is None:
        yield
        return
    token = opentelemetry.context.attach(context)
    try:
        yield
    finally:
        # A workflow evicted mid-turn closes this block wherever its coroutine is collected,
        # in another contextvars context, where there is nothing to detach.
        with contextlib.suppress(ValueError):
            token.var.reset(token)


class TraceIdFilter(logging.Filter):
    """Gives every record a `trace_id`: the active trace's, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        record.trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with the trace id on each line; for entry points, once."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(TraceIdFilter())
