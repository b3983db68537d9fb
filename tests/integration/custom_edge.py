"""An edge and a worker of the test's own, in the test's process, on the real servers.

For behaviour that needs a different agent or pillar registry than the shared stack's: the
worker and the API still talk to the real Temporal dev server and Redis, and the API runs on
a real uvicorn.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
import uvicorn
from temporalio.client import Client

from agents.orchestrators import OrchestratorRegistry
from agents.replies import ReplyProvider
from api.main import create_app
from devstack.services import free_port
from foundations.settings import Settings
from tests.stack import RunningStack
from workers.composition import chat_worker


def settings_for(stack: RunningStack) -> Settings:
    """Settings for a fresh task queue on the stack's servers, with generous limits."""
    return Settings(
        temporal_address=stack.temporal_address,
        redis_url=stack.redis_url,
        task_queue=f"custom-{uuid.uuid4().hex}",
        session_messages_per_minute=10_000,
        user_messages_per_minute=10_000,
        client_sessions_per_minute=1_000_000,
        client_sockets_per_minute=1_000_000,
        # Capabilities run at once, as on the shared stack; questions have their own tests.
        ask_before_acting=False,
    )


@asynccontextmanager
async def serve_edge(
    settings: Settings, orchestrators: OrchestratorRegistry | None = None
) -> AsyncIterator[str]:
    """A real uvicorn serving the edge; yields its base ws:// URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, orchestrators),
            host="127.0.0.1",
            port=port,
            ws="websockets-sansio",
            log_level="warning",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@asynccontextmanager
async def run_worker(
    settings: Settings, provider: ReplyProvider, orchestrators: OrchestratorRegistry | None = None
) -> AsyncIterator[None]:
    """A chat worker on the settings' task queue that answers with `provider`."""
    client = await Client.connect(settings.temporal_address)
    redis_client = redis.Redis.from_url(settings.redis_url)
    try:
        async with chat_worker(
            client, redis_client, settings, provider=provider, orchestrators=orchestrators
        ):
            yield
    finally:
        await redis_client.aclose()
