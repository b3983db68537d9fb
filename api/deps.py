"""FastAPI dependencies: what the lifespan opened, as typed aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import redis.asyncio as redis
from fastapi import Depends, Request, WebSocket
from temporalio.client import Client

from agents.capabilities.content import UploadMetadata
from api.agent_sdk import TOKEN_ONLY, AgentWebSocketSDK, Caller
from api.identity import Authenticator, CurrentUser, User, current_user
from api.lifecycle import OpenSockets
from foundations.admission import EdgeAdmission
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


def _state(request: Request) -> EdgeState:
    return request.app.state.edge  # type: ignore[no-any-return]


def _ws_state(websocket: WebSocket) -> EdgeState:
    return websocket.app.state.edge  # type: ignore[no-any-return]


Edge = Annotated[EdgeState, Depends(_state)]
WsEdge = Annotated[EdgeState, Depends(_ws_state)]


async def caller_of(authenticator: Authenticator, user: User | None) -> Caller:
    """The caller of a request or socket: the user and the devices it claimed, or, for no
    user (anonymous mode without a device identity), a token-only caller."""
    if user is None:
        return TOKEN_ONLY
    return Caller(user.id, frozenset(await authenticator.claims.owner_ids(user.id)))


async def _caller(request: Request) -> Caller:
    """`CurrentUser` for the routes a session token opens.

    In anonymous mode a request with no `Authorization` at all is a token-only client, as
    every client was before identities: it opens only sessions nobody owns. In every other
    case the identity is required and checked (401 without one).
    """
    authenticator: Authenticator = request.app.state.identity
    if authenticator.mode == "anonymous" and "authorization" not in request.headers:
        return TOKEN_ONLY
    return await caller_of(authenticator, await current_user(request))


# The caller of a route that a session token opens; its sessions are checked against it.
CallerOf = Annotated[Caller, Depends(_caller)]


async def _signed_in(request: Request, user: CurrentUser) -> Caller:
    return await caller_of(request.app.state.identity, user)


# The caller of a route that needs an identity in every mode (the chat list); 401 without.
SignedIn = Annotated[Caller, Depends(_signed_in)]
