"""Identity at the edge: `AUTH_MODE` anonymous, jwt or proxy (docs/privacy.md).

Routes depend on `CurrentUser`; the lifespan builds one `Authenticator` (`Authenticator.open`)
and keeps it as `app.state.identity`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket

from api.identity.authenticator import Authenticator
from api.identity.tickets import WEBSOCKET_SUBPROTOCOL
from api.identity.user import AuthError, AuthMode, User

__all__ = [
    "WEBSOCKET_SUBPROTOCOL",
    "AuthError",
    "AuthMode",
    "Authenticator",
    "CurrentUser",
    "User",
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
    """The handshake's user; raises `AuthError`, which the route turns into a close code
    before it accepts (and accepts with `WEBSOCKET_SUBPROTOCOL`)."""
    authenticator: Authenticator = websocket.app.state.identity
    peer = websocket.client.host if websocket.client else None
    return await authenticator.authenticate_websocket(peer, websocket.headers)


CurrentUser = Annotated[User, Depends(current_user)]
