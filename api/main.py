"""The edge: `create_app()` and the lifespan that opens Temporal and Redis once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client

from agents.capabilities import MAX_UPLOAD_BYTES
from agents.capabilities.content import UploadMetadata
from agents.orchestrators import OrchestratorRegistry, default_registry
from api import (
    auth_routes,
    chat_deletion,
    chat_export,
    chat_rest,
    chats,
    errors,
    health,
    shares,
    uploads,
    websocket,
)
from api.agent_sdk import AgentWebSocketSDK
from api.body_limit import BodyLimit
from api.deps import EdgeState
from api.identity import Authenticator
from api.live_relay import LiveRelay
from api.metrics import router as metrics_router
from api.openapi_limits import Limit, declare_limits
from foundations.admission import ContentPolicy, EdgeAdmission, MessageAdmission, RateLimits
from foundations.clients import communication_foundation, open_redis, temporal_data_converter
from foundations.communication import CommunicationFoundation
from foundations.gateway import PlatformGateway, Realm
from foundations.payload_keys import open_payload_keys
from foundations.sessions import SessionStore
from foundations.settings import Settings, get_settings
from foundations.tracing import temporal_plugins
from foundations.uploads import UploadStore
from workflows.session_payloads import is_session_workflow_id

logger = logging.getLogger(__name__)

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"


@dataclass(frozen=True)
class EdgeNeeds:
    """What the edge takes from the Platform Gateway, checked when the app starts."""

    session: SessionStore
    communication_foundation: CommunicationFoundation
    orchestrators: OrchestratorRegistry
    file_storage: UploadStore[UploadMetadata]


def create_app(
    settings: Settings | None = None, orchestrators: OrchestratorRegistry | None = None
) -> FastAPI:
    """The edge application; `orchestrators` replaces the built-in pillar registry."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis_client = open_redis(settings)
        payload_keys = open_payload_keys(settings, redis_client)
        temporal = await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            plugins=temporal_plugins(),
            # The worker's converter: what one side seals, the other must open.
            data_converter=temporal_data_converter(settings, payload_keys, is_session_workflow_id),
        )
        gateway = PlatformGateway(
            {
                "session": SessionStore(redis_client, settings.session_ttl_seconds),
                "communication_foundation": communication_foundation(redis_client, settings),
                "orchestrators": orchestrators or default_registry(),
                "file_storage": UploadStore(
                    redis_client, settings.session_ttl_seconds, UploadMetadata
                ),
            }
        )
        granted = gateway.grant(Realm.EXPERIENCE, EdgeNeeds)
        relay = LiveRelay(redis_client)
        await relay.start()
        sdk = AgentWebSocketSDK(
            temporal=temporal,
            sessions=granted.session,
            # The edge pre-checks the rules Traffic Cop enforces, on the same counters.
            admission=MessageAdmission(
                redis_client,
                ContentPolicy(tuple(settings.blocked_terms)),
                RateLimits(settings.session_messages_per_minute, settings.user_messages_per_minute),
            ),
            communication=granted.communication_foundation,
            relay=relay,
            orchestrators=granted.orchestrators,
            settings=settings,
        )
        app.state.settings = settings
        # Identity for the chat routes (docs/privacy.md, "Identity").
        app.state.identity = await Authenticator.open(settings, redis_client)
        app.state.edge = EdgeState(
            settings,
            temporal,
            redis_client,
            sdk,
            granted.file_storage,
            EdgeAdmission(redis_client, settings),
        )
        try:
            yield
        finally:
            await relay.stop()
            await redis_client.aclose()

    app = FastAPI(title="Agent chat", lifespan=lifespan)
    errors.install(app)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_request_body_bytes,
        limits={"/api/uploads": MAX_UPLOAD_BYTES},
    )
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(auth_routes.router)
    app.include_router(chats.router)
    app.include_router(chat_rest.router)
    app.include_router(uploads.router)
    app.include_router(chat_deletion.router)
    app.include_router(chat_export.router)
    app.include_router(shares.router)
    declare_limits(
        app,
        [
            Limit(chat_rest.GuideChatRequest, "message", "maxLength", settings.max_message_chars),
            Limit(chat_rest.LiaisonChatRequest, "message", "maxLength", settings.max_message_chars),
            Limit(shares.CreateShare, "expires_in_seconds", "maximum", settings.share_max_seconds),
        ],
    )
    app.include_router(websocket.router)
    if (FRONTEND_DIST / "index.html").exists():

        @app.get("/share/{share_id}", include_in_schema=False)
        async def shared_page(share_id: str) -> FileResponse:
            """A share link is an address of the page, which reads the share itself."""
            return FileResponse(FRONTEND_DIST / "index.html")

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
