"""FastAPI dependencies: what the lifespan opened, as typed aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import redis.asyncio as redis
from fastapi import Depends, Request, WebSocket
from temporalio.client import Client

from agents.capabilities.content import UploadMetadata
from api.agent_sdk import AgentWebSocketSDK
from api.lifecycle import OpenSockets
from foundations.admission import EdgeAdmission
from foundations.feedback import FeedbackStore
from foundations.settings import Settings
from foundations.uploads import UploadStore


@dataclass
class EdgeState:
    """Clients and services opened once by the lifespan."""

    settings: Settings
    temporal: Client
    redis: redis.Redis
    sdk: AgentWebSocketSDK
    uploads: UploadStore[UploadMetadata]
    admission: EdgeAdmission
    # Closed with 1012 and a reason when the edge shuts down.
    sockets: OpenSockets = field(default_factory=OpenSockets)

    @property
    def feedback(self) -> FeedbackStore:
        """Ratings of replies, kept as long as the histories they rate."""
        return FeedbackStore(self.redis, self.settings.session_ttl_seconds)


def _state(request: Request) -> EdgeState:
    return request.app.state.edge  # type: ignore[no-any-return]


def _ws_state(websocket: WebSocket) -> EdgeState:
    return websocket.app.state.edge  # type: ignore[no-any-return]


Edge = Annotated[EdgeState, Depends(_state)]
WsEdge = Annotated[EdgeState, Depends(_ws_state)]
