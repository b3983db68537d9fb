"""The one place configuration is read. Every value can be set by an environment variable."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform settings; environment variables use the field name in upper case."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "chat-sessions"
    redis_url: str = "redis://localhost:6379/0"
    # Connections per process; past it, callers wait (up to 10 s) for a free one.
    redis_max_connections: int = 256

    # Telemetry
    # Where the worker serves its Prometheus metrics (0: not at all); the API serves them at
    # /metrics on its own port. Several workers on one host each need their own ports.
    worker_metrics_port: int = 9100
    # The Temporal SDK's runtime metrics (temporal_*), from the worker (0: not at all).
    temporal_metrics_port: int = 9101
    # The interface both worker metrics servers bind; 0.0.0.0 lets a Prometheus in another
    # container scrape them.
    metrics_host: str = "127.0.0.1"
    # Traces go over OTLP/HTTP to this collector (e.g. http://localhost:4318); empty: no export.
    otel_exporter_otlp_endpoint: str = ""

    # The edge
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    websocket_enabled: bool = True
    allowed_origins: list[str] = Field(
        default_factory=lambda: [
            "http://localhost:8000",
            "http://127.0.0.1:8000",
            "http://localhost:5173",
        ]
    )
    # Frames larger than this close the socket with 1009.
    max_frame_bytes: int = 64 * 1024
    # Client frames per second a socket may send before it is told to slow down ...
    socket_frames_per_second: float = 20.0
    socket_burst: int = 40
    # ... and how many refusals in a row before it is closed with 1008.
    socket_flood_strikes: int = 20

    # Sessions and messages
    session_ttl_seconds: int = 7 * 24 * 3600
    max_message_chars: int = 8000
    context_window_messages: int = 100
    restore_messages: int = 200
    history_max_messages: int = 10_000
    stream_max_events: int = 2_000
    idle_timeout_seconds: float = 30 * 60
    max_turns_per_run: int = 500
    # Traffic Cop admission limits, per minute.
    session_messages_per_minute: int = 60
    user_messages_per_minute: int = 120
    blocked_terms: list[str] = Field(default_factory=list)

    # Agents
    reply_provider: Literal["builtin", "openai"] = "builtin"
    # Deltas that arrive within this window go out as one chat_chunk (the first at once).
    reply_frame_window_ms: int = 40
    # Pause between the built-in agent's deltas (0: as fast as they come), to show streaming
    # at a human pace in demos.
    builtin_delta_delay_ms: int = 0
    openai_base_url: str = "http://localhost:11434/v1"
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"

    # Lifecycle
    # On SIGTERM/SIGINT the worker stops taking tasks and gives running activities (replies
    # among them) this long to finish before it cancels them; they then restart elsewhere.
    # Deployments must wait a little longer than this before they kill the worker.
    worker_graceful_shutdown_seconds: float = 30.0
    # How long the edge waits for a worker to accept a message before it answers
    # `unavailable`; the page keeps the message and resends it with the same id.
    message_submit_timeout_seconds: float = 8.0

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(seconds=self.idle_timeout_seconds)


@lru_cache
def get_settings() -> Settings:
    return Settings()
