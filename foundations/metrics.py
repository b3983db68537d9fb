"""Every Prometheus metric the platform exports, defined once.

The API serves them at `GET /metrics`; the worker serves them on `worker_metrics_port`, and the
Temporal SDK's own `temporal_*` metrics on `temporal_metrics_port`. Each process exports only
its own side's metrics (`EDGE_METRICS`, `WORKER_METRICS`), so neither shows the other's as
empty series; `chat_redis_errors_total` is on both because both talk to Redis.

Observations are recorded where the thing happens (the socket handler, the reply activity, the
relay) through the small helpers below, so the call sites stay one line each.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

import redis.asyncio as redis
from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.registry import Collector
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError, TimeoutError
from temporalio import activity
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

logger = logging.getLogger(__name__)

# `*_created` series (when each series was first seen) only double what a scrape returns.
disable_created_metrics()  # type: ignore[no-untyped-call]

# --- The API process -------------------------------------------------------------------------

ACK_LATENCY = Histogram(
    "chat_ack_latency_seconds",
    "From a chat_message frame received to its ack (message_accepted, duplicate or error) sent.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)
MESSAGES = Counter(
    "chat_messages_total",
    "chat_message frames by outcome; refused ones by their wire error code.",
    ["outcome", "code"],
    registry=None,
)
LIVE_SOCKETS = Gauge(
    "chat_live_sockets",
    "Open, authenticated WebSockets by agent type.",
    ["agent_type"],
    registry=None,
)
RELAY_LAG = Histogram(
    "chat_relay_lag_seconds",
    "From an event written to its Redis stream to its frame written to a socket.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=None,
)

# --- The worker process ----------------------------------------------------------------------

TIME_TO_FIRST_CHUNK = Histogram(
    "chat_time_to_first_chunk_seconds",
    "From a user message recorded to the first chat_chunk of its reply published.",
    ["agent_type"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0),
    registry=None,
)
TURN_DURATION = Histogram(
    "chat_turn_duration_seconds",
    "From a user message recorded to its reply recorded, stopped replies included; failed "
    "turns are counted by chat_replies_total.",
    ["agent_type"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0),
    registry=None,
)
REPLIES = Counter(
    "chat_replies_total",
    "Reply attempts by how they ended: completed, cancelled (the user's Stop), failed (the "
    "agent or Redis failed; Temporal may retry it); restarted counts attempts that began "
    "again after a failed or abandoned one.",
    ["outcome"],
    registry=None,
)

# --- Both ------------------------------------------------------------------------------------

REDIS_ERRORS = Counter(
    "chat_redis_errors_total",
    "Redis commands that failed because Redis was down, unreachable or too slow.",
    registry=None,
)

# What each process exports: recording works everywhere, but an API scrape shows no empty
# worker series and the other way round.
# Feedback on replies (foundations/feedback.py).
FEEDBACK = Counter(
    "chat_feedback_total",
    "Ratings of replies: `change` is `new` for a user's first rating of a reply, `changed` when "
    "they turned it over; giving the same rating again counts nothing.",
    ["rating", "change"],
    registry=None,
)

EDGE_METRICS: tuple[Collector, ...] = (
    ACK_LATENCY,
    MESSAGES,
    LIVE_SOCKETS,
    RELAY_LAG,
    REDIS_ERRORS,
    FEEDBACK,
)
WORKER_METRICS: tuple[Collector, ...] = (TIME_TO_FIRST_CHUNK, TURN_DURATION, REPLIES, REDIS_ERRORS)
_exported: set[Collector] = set()

MessageOutcome = Literal["accepted", "duplicate", "refused"]


def export(collectors: tuple[Collector, ...]) -> None:
    """Add these metrics to this process's exports (each once, however often called)."""
    for collector in collectors:
        if collector not in _exported:
            REGISTRY.register(collector)
            _exported.add(collector)


def message_handled(outcome: MessageOutcome, code: str = "", *, received_at: float) -> None:
    """A chat_message frame was answered; `received_at` is its `time.monotonic()` arrival."""
    MESSAGES.labels(outcome=outcome, code=code).inc()
    ACK_LATENCY.observe(time.monotonic() - received_at)


def feedback_given(rating: str, change: Literal["new", "changed", "same"]) -> None:
    """A user rated a reply; only a first rating or a turned-over one counts."""
    if change != "same":
        FEEDBACK.labels(rating=rating, change=change).inc()


def event_relayed(event_id: str) -> None:
    """A live event reached a socket; its stream id holds the time Redis stored it."""
    RELAY_LAG.observe(_seconds_since(event_id))


def first_chunk_published(agent_type: str, user_message_event_id: str) -> None:
    """The first chunk of a reply attempt is out; a restarted reply's user waits again."""
    if user_message_event_id:
        TIME_TO_FIRST_CHUNK.labels(agent_type).observe(_seconds_since(user_message_event_id))


def turn_ended(agent_type: str, user_message_event_id: str) -> None:
    """A turn's reply (or its failure notice) is recorded."""
    if user_message_event_id:
        TURN_DURATION.labels(agent_type).observe(_seconds_since(user_message_event_id))


class _Reply(Protocol):
    @property
    def cancelled(self) -> bool: ...


P = ParamSpec("P")
Reply = TypeVar("Reply", bound=_Reply)


def counts_reply_attempts(
    generate: Callable[P, Awaitable[Reply]],
) -> Callable[P, Awaitable[Reply]]:
    """Count each attempt of a reply activity by how it ends, in `chat_replies_total`.

    An attempt cut short by its worker shutting down is not counted: the reply goes on in a
    later attempt, counted as `restarted`.
    """

    @functools.wraps(generate)
    async def attempt(*args: P.args, **kwargs: P.kwargs) -> Reply:
        if activity.info().attempt > 1:
            REPLIES.labels(outcome="restarted").inc()
        try:
            reply = await generate(*args, **kwargs)
        except asyncio.CancelledError:
            if not activity.is_worker_shutdown():
                REPLIES.labels(outcome="cancelled").inc()
            raise
        except Exception:
            REPLIES.labels(outcome="failed").inc()
            raise
        REPLIES.labels(outcome="cancelled" if reply.cancelled else "completed").inc()
        return reply

    return attempt


def _seconds_since(event_id: str) -> float:
    """Seconds from the wall-clock milliseconds in a Redis stream id ("1700000000000-0") to now.

    Redis's clock against this host's: on one host exact, across hosts as good as their clock
    sync, which is why a negative difference counts as zero.
    """
    milliseconds = int(event_id.partition("-")[0])
    return max(0.0, time.time() - milliseconds / 1000)


# Failures that mean Redis is down, unreachable or too slow; not a script's NOSCRIPT, which the
# client handles itself, nor a bad command.
_REDIS_DOWN = (ConnectionError, TimeoutError)


class CountingRedis(redis.Redis):
    """A Redis client that counts its commands failing for want of Redis."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except _REDIS_DOWN:
            REDIS_ERRORS.inc()
            raise

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return _CountingPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


class _CountingPipeline(Pipeline):
    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        try:
            return await super().execute(raise_on_error)
        except _REDIS_DOWN:
            REDIS_ERRORS.inc()
            raise


def serve_metrics(host: str, port: int) -> None:
    """Serve this process's metrics over HTTP on a daemon thread; port 0 serves none.

    A port already taken is logged, not fatal: the worker's job is replies, not metrics.
    """
    if not port:
        return
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        logger.error("cannot serve metrics on %s:%d: %s", host, port, error)
    else:
        logger.info("metrics at http://%s:%d/metrics", host, port)


def temporal_runtime(host: str, port: int) -> Runtime | None:
    """A Temporal runtime exporting the SDK's own metrics on `port`; None (the default runtime,
    no export) for port 0. Clients made with it, and their workers, report into it."""
    if not port:
        return None
    # Prometheus's naming, like every other metric the platform exports: durations in
    # seconds with a `_seconds` suffix, counters ending in `_total`.
    prometheus = PrometheusConfig(
        bind_address=f"{host}:{port}",
        counters_total_suffix=True,
        unit_suffix=True,
        durations_as_seconds=True,
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    except ValueError as error:  # the exporter could not bind; run without it, as above
        logger.error("cannot serve Temporal metrics on %s:%d: %s", host, port, error)
        return None
