"""The edge: `create_app()` and the lifespan that opens Temporal and Redis once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client

from activities.traffic_cop import ContentPolicy, RateLimits, TrafficCop
from agents.capabilities import MAX_UPLOAD_BYTES
from agents.orchestrators import OrchestratorRegistry, default_registry
from api import chat_rest, health, uploads, websocket
from api.body_limit import BodyLimit
from api.deps import EdgeState
from api.errors import validation_error
from api.metrics import router as metrics_router
from foundations.admission import EdgeAdmission
from foundations.agent_sdk import AgentWebSocketSDK
from foundations.communication import LiveRelay
from foundations.gateway import PlatformGateway, Realm
from foundations.payload_converter import DATA_CONVERTER
from foundations.sessions import SessionStore
from foundations.settings import Settings, get_settings
from foundations.tracing import temporal_plugins
from foundations.uploads import UploadStore
from workers.composition import communication_foundation, open_redis

logger = logging.getLogger(__name__)

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"

# What the edge uses, checked against the gateway's map when the app starts.
EDGE_USES = ("session", "websocket", "orchestrators", "file_storage")


def create_app(
    settings: Settings | None = None, orchestrators: OrchestratorRegistry | None = None
) -> FastAPI:
    """The edge application; `orchestrators` replaces the built-in pillar registry."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis_client = open_redis(settings)
        temporal = await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            plugins=temporal_plugins(),
            data_converter=DATA_CONVERTER,
        )
        communication = communication_foundation(redis_client, settings)
        sessions = SessionStore(redis_client, settings.session_ttl_seconds)
        gateway = PlatformGateway(
            {
                "session": sessions,
                "websocket": communication,
                "orchestrators": orchestrators or default_registry(),
                "file_storage": UploadStore(redis_client, settings.session_ttl_seconds),
            }
        )
        granted = gateway.grant(Realm.EXPERIENCE, EDGE_USES)
        relay = LiveRelay(redis_client)
        await relay.start()
        traffic_cop = TrafficCop(
            sessions=granted["session"],
            cache=redis_client,
            policy=ContentPolicy(tuple(settings.blocked_terms)),
            limits=RateLimits(
                settings.session_messages_per_minute, settings.user_messages_per_minute
            ),
            communication=granted["websocket"],
        )
        sdk = AgentWebSocketSDK(
            temporal=temporal,
            traffic_cop=traffic_cop,
            communication=granted["websocket"],
            relay=relay,
            orchestrators=granted["orchestrators"],
            settings=settings,
        )
        app.state.edge = EdgeState(
            settings,
            temporal,
            redis_client,
            sdk,
            granted["file_storage"],
            EdgeAdmission(redis_client, settings),
        )
        try:
            yield
        finally:
            await relay.stop()
            await redis_client.aclose()

    app = FastAPI(title="Agent chat", lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_request_body_bytes,
        limits={"/api/uploads": MAX_UPLOAD_BYTES},
    )
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(chat_rest.router)
    app.include_router(uploads.router)
    app.include_router(websocket.router)
    if (FRONTEND_DIST / "index.html").exists():
        app.mount("/", StaticFiles(directory=FRONTEND_DIST, html=True), name="frontend")
    else:

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def frontend_missing() -> str:
            return (
                "<!doctype html><title>Agent chat</title><h1>The chat page is not built</h1>"
                "<p>Build it with <code>make frontend</code> (it brings its own Node.js), then "
                "reload. The WebSocket and REST APIs work without it.</p>"
            )

    return app
