"""Every Prometheus metric the platform exports, defined once.

The API serves them at `GET /metrics`; the worker serves them on `worker_metrics_port`, and the
Temporal SDK's own `temporal_*` metrics on `temporal_metrics_port`. Each process only touches
the metrics of its own side, so an API scrape shows the edge's series and a worker scrape the
worker's; `chat_redis_errors_total` is shared by name because both talk to Redis.

Observations are recorded where the thing happens (the socket handler, the reply activity, the
relay) through the small helpers below, so the call sites stay one line each.
"""

from __future__ import annotations

import time
from typing import Literal

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

# --- The API process -------------------------------------------------------------------------

ACK_LATENCY = Histogram(
    "chat_ack_latency_seconds",
    "From a chat_message frame received to its ack (message_accepted, duplicate or error) sent.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MESSAGES = Counter(
    "chat_messages_total",
    "chat_message frames by outcome; refused ones by their wire error code.",
    ["outcome", "code"],
)
LIVE_SOCKETS = Gauge(
    "chat_live_sockets", "Open, authenticated WebSockets by agent type.", ["agent_type"]
)
RELAY_LAG = Histogram(
    "chat_relay_lag_seconds",
    "From an event written to its Redis stream to its frame written to a socket.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# --- The worker process ----------------------------------------------------------------------

TIME_TO_FIRST_CHUNK = Histogram(
    "chat_time_to_first_chunk_seconds",
    "From a user message recorded to the first chat_chunk of its reply published.",
    ["agent_type"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0),
)
TURN_DURATION = Histogram(
    "chat_turn_duration_seconds",
    "From a user message recorded to its reply recorded (or the turn given up).",
    ["agent_type"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0),
)
REPLIES = Counter(
    "chat_replies_total",
    "Reply attempts by how they ended; `restarted` is a reply started again after a retry.",
    ["outcome"],
)

# --- Both ------------------------------------------------------------------------------------

REDIS_ERRORS = Counter("chat_redis_errors_total", "Redis commands that failed.")

MessageOutcome = Literal["accepted", "duplicate", "refused"]
ReplyOutcome = Literal["completed", "cancelled", "failed", "restarted"]


def message_handled(outcome: MessageOutcome, code: str = "", *, received_at: float) -> None:
    """A chat_message frame was answered; `received_at` is its `time.monotonic()` arrival."""
    MESSAGES.labels(outcome=outcome, code=code).inc()
    ACK_LATENCY.observe(time.monotonic() - received_at)


def reply_ended(outcome: ReplyOutcome) -> None:
    REPLIES.labels(outcome=outcome).inc()


def seconds_since_ms(epoch_ms: float) -> float:
    """Seconds from a wall-clock millisecond timestamp (a stream id's, a record's) to now."""
    return max(0.0, time.time() - epoch_ms / 1000)


def serve_metrics(host: str, port: int) -> None:
    """Serve this process's metrics over HTTP on a daemon thread; port 0 serves none."""
    if port:
        start_http_server(port, addr=host)


def temporal_runtime(host: str, port: int) -> Runtime | None:
    """A Temporal runtime exporting the SDK's own metrics on `port`; None (the default runtime,
    no export) for port 0. Clients made with it, and their workers, report into it."""
    if not port:
        return None
    # Seconds and `_total` counters, like every other metric the platform exports.
    prometheus = PrometheusConfig(
        bind_address=f"{host}:{port}", counters_total_suffix=True, durations_as_seconds=True
    )
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
