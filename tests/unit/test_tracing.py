"""The trace id on log lines, and tracing off when no collector is configured."""

from __future__ import annotations

import logging

from opentelemetry.sdk.trace import TracerProvider

from foundations.settings import Settings
from foundations.tracing import LOG_FORMAT, TraceIdFilter, configure_tracing


def format_record(message: str) -> str:
    record = logging.LogRecord("chat", logging.INFO, __file__, 1, message, None, None)
    TraceIdFilter().filter(record)
    return logging.Formatter(LOG_FORMAT).format(record)


def test_a_log_line_inside_a_span_carries_its_trace_id() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("turn") as span:
        line = format_record("reply recorded")
    assert f"trace={span.get_span_context().trace_id:032x} reply recorded" in line


def test_a_log_line_outside_any_span_says_so() -> None:
    assert "trace=- idle" in format_record("idle")


def test_no_endpoint_no_tracing() -> None:
    assert configure_tracing(Settings(otel_exporter_otlp_endpoint=""), "chat-test") is False
