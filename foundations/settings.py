"""The one place configuration is read. Every value can be set by an environment variable."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public-key algorithms only: "none" and the HMAC family are refused, so a token can never be
# checked with a public key used as an HMAC secret (algorithm confusion).
ASYMMETRIC_JWT_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


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

    # Admission and validation at the edge (docs/security.md). Per client address, per minute:
    client_sessions_per_minute: int = 30
    client_sockets_per_minute: int = 120
    # Sockets open at once on one session, across its conversations and API processes.
    max_sockets_per_session: int = 20
    # Proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For / Forwarded
    # headers name the client; from anyone else those headers are ignored.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Live events waiting to be written to one socket; past it the socket is closed (4012).
    socket_queue_events: int = 1000
    # Cancel frames a socket may send per second, with room for a burst.
    socket_cancels_per_second: float = 2.0
    socket_cancel_burst: int = 10
    # REST request bodies; uploads have their own cap.
    max_request_body_bytes: int = 64 * 1024

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

    # Storage bounds
    # A closed session's histories, streams and uploads expire this long after it is closed
    # (after its last accepted turn), instead of after the full session TTL.
    closed_session_retention_seconds: int = 600
    # conversation_restored (and each page of GET /api/chat/conversation/messages) holds the
    # newest messages that fit in this many bytes; older ones are read page by page.
    restore_max_bytes: int = 1024 * 1024

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

    @field_validator("trusted_proxies", "auth_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError names the bad entry
        return value

    # Bounded CPU: orchestrator capabilities (parsers) run in child processes, this many at a
    # time, each killed after this many seconds (kept under the workflow's one-minute
    # activity timeout so the user hears why). See docs/security.md.
    capability_processes: int = 2
    capability_timeout_seconds: float = 30.0
    # Address space of each capability process; the worst 10 MB inputs peak near 300 MB.
    capability_memory_mb: int = 1024

    # Lifecycle
    # On SIGTERM/SIGINT the worker stops taking tasks and gives running activities (replies
    # among them) this long to finish before it cancels them; they then restart elsewhere.
    # Deployments must wait a little longer than this before they kill the worker.
    worker_graceful_shutdown_seconds: float = 30.0
    # How long the edge waits for a worker to accept a message before it answers
    # `unavailable`; the page keeps the message and resends it with the same id.
    message_submit_timeout_seconds: float = 8.0

    # Identity and privacy (docs/privacy.md)
    # Who a request is: "anonymous" (the API issues each browser a signed device identity),
    # "jwt" (bearer tokens from an identity provider) or "proxy" (a header set by an SSO proxy).
    auth_mode: Literal["anonymous", "jwt", "proxy"] = "anonymous"
    # Signs device identities (at least 32 characters). Empty: one is generated and kept in
    # Redis, which suits development only: whoever can read Redis could then forge identities.
    identity_secret: SecretStr = SecretStr("")
    # jwt: the keys, from a JWKS URL (refetched on an unknown key id, at most once per cooldown,
    # so a rotated key is picked up without a restart) or one PEM public key; both checked
    # against the issuer, the audience and these asymmetric algorithms only.
    jwt_jwks_url: str = ""
    jwt_public_key: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    jwt_jwks_cache_seconds: float = 300.0
    jwt_jwks_refresh_cooldown_seconds: float = 30.0
    # Clock difference allowed when checking exp / nbf / iat.
    jwt_leeway_seconds: float = 30.0
    # proxy: the headers an SSO proxy (oauth2-proxy and the like) sets, honoured only when the
    # TCP peer is one of AUTH_PROXIES (addresses or networks); from anyone else, refused.
    auth_proxy_user_header: str = "X-Forwarded-User"
    auth_proxy_email_header: str = "X-Forwarded-Email"
    auth_proxies: list[str] = Field(default_factory=list)
    # A browser's WebSocket presents a single-use ticket from POST /api/auth/ws-ticket, valid
    # this long, so no long-lived token travels in a URL.
    ws_ticket_ttl_seconds: int = 30
    # Payload encryption (crypto-shredding): data keys cached per process this long, so a
    # deleted chat's key stops decrypting everywhere within it.
    payload_key_cache_seconds: float = 60.0
    # A file holding a master key (64 hex digits) that wraps every data key stored in Redis,
    # so a copy of Redis alone opens no history. Empty: data keys are stored unwrapped.
    payload_master_key_file: str = ""
    # The credential operators present to the payload codec endpoint (Temporal UI); empty:
    # the endpoint refuses every request.
    codec_operator_token: SecretStr = SecretStr("")
    # Origins of the Temporal UI pages that call the codec endpoint from the browser.
    codec_allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:8233", "http://127.0.0.1:8233"]
    )

    @model_validator(mode="after")
    def _identity_complete(self) -> Settings:
        if self.auth_mode == "jwt":
            if not (self.jwt_jwks_url or self.jwt_public_key):
                raise ValueError("AUTH_MODE=jwt needs JWT_JWKS_URL or JWT_PUBLIC_KEY")
            if not (self.jwt_issuer and self.jwt_audience):
                raise ValueError("AUTH_MODE=jwt needs JWT_ISSUER and JWT_AUDIENCE")
            refused = set(self.jwt_algorithms) - ASYMMETRIC_JWT_ALGORITHMS
            if refused or not self.jwt_algorithms:
                raise ValueError(
                    f"JWT_ALGORITHMS may name only {sorted(ASYMMETRIC_JWT_ALGORITHMS)}; "
                    f"refused: {sorted(refused) or 'an empty list'}"
                )
        if self.auth_mode == "proxy" and not self.auth_proxies:
            raise ValueError("AUTH_MODE=proxy needs AUTH_PROXIES: the proxies that set the header")
        secret = self.identity_secret.get_secret_value()
        if secret and len(secret) < 32:
            raise ValueError("IDENTITY_SECRET must be at least 32 characters")
        return self

    # The lean turn (docs/performance.md)
    # Sessions started now admit, record and route a message in one local activity, and their
    # reply activity records the reply. Workers of a release without it cannot replay such a
    # session: keep it false during a rolling deploy from that release, true once its
    # workers are gone (docs/operations.md).
    lean_turn: bool = True

    # Questions agents ask before they act (docs/protocol.md, "Questions")
    # Which capabilities ask the person before they run, by name, over the defaults in
    # agents/capabilities/asking.py: CAPABILITY_ASKS_FIRST='{"parse_file": false}'.
    capability_asks_first: dict[str, bool] = Field(default_factory=dict)
    # An unanswered question expires after this long and its turn answers without running.
    question_timeout_seconds: float = 7 * 24 * 3600
    # Sessions started now may ask (a local activity before each capability run). Workers of a
    # release without questions cannot replay such a session: keep it false during a rolling
    # deploy from that release, true once its workers are gone.
    ask_before_acting: bool = True
    # Visible steps (issue 15): sessions started now show each capability run as a step of
    # its reply. Workers of a release without steps cannot replay such a session: keep it
    # false during a rolling deploy from that release, true once its workers are gone.
    visible_steps: bool = True

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(seconds=self.idle_timeout_seconds)


@lru_cache
def get_settings() -> Settings:
    return Settings()
