"""Identity at the edge: `AUTH_MODE` anonymous, jwt or proxy (docs/privacy.md).

Routes depend on `CurrentUser`; the lifespan builds one `Authenticator` (`Authenticator.open`)
and keeps it as `app.state.identity`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket

from api.identity.authenticator import Authenticator
from api.identity.tickets import CLOSE_UNAUTHENTICATED, WEBSOCKET_SUBPROTOCOL
from api.identity.user import AuthError, AuthMode, User

__all__ = [
    "CLOSE_UNAUTHENTICATED",
    "WEBSOCKET_SUBPROTOCOL",
    "AuthError",
    "AuthMode",
    "Authenticator",
    "CurrentUser",
    "User",
    "accept_as_user",
    "current_user",
    "websocket_user",
]


async def current_user(request: Request) -> User:
    """The request's user, or 401 with the reason (never the credential)."""
    authenticator: Authenticator = request.app.state.identity
    peer = request.client.host if request.client else None
    try:
        return await authenticator.authenticate(peer, request.headers)
    except AuthError as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from error


async def websocket_user(websocket: WebSocket) -> User:
    """The handshake's user; raises `AuthError`. Routes call `accept_as_user` instead."""
    authenticator: Authenticator = websocket.app.state.identity
    peer = websocket.client.host if websocket.client else None
    return await authenticator.authenticate_websocket(peer, websocket.headers)


async def accept_as_user(websocket: WebSocket) -> User | None:
    """Accept the socket as its user, or close it with `CLOSE_UNAUTHENTICATED` and the reason.

    The refusal is sent after accepting: a handshake refused outright reaches the page as a
    bare 1006, indistinguishable from a network fault, so it could not know to fetch a new
    ticket. Nothing is read from a refused socket.
    """
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    # A browser that offered subprotocols drops a connection accepted without one of them.
    subprotocol = WEBSOCKET_SUBPROTOCOL if WEBSOCKET_SUBPROTOCOL in offered else None
    try:
        user = await websocket_user(websocket)
    except AuthError as error:
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(CLOSE_UNAUTHENTICATED, str(error))
        return None
    await websocket.accept(subprotocol=subprotocol)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
