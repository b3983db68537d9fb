"""REST routes of identity: a device identity, who am I, a WebSocket ticket, claiming a device.

The edge's lifespan keeps the `Authenticator` as `app.state.identity` (docs/privacy.md).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel

from api import errors
from api.identity import Authenticator, AuthError, CurrentUser
from foundations.device_claims import ClaimOutcome

router = APIRouter(prefix="/api/auth", tags=["identity"])


class UserView(BaseModel):
    id: str
    display_name: str
    mode: Literal["anonymous", "jwt", "proxy"]


class DeviceIdentity(BaseModel):
    """Keep `token` (in localStorage) and send it as `Authorization: Bearer <token>`."""

    token: str
    user: UserView


class Ticket(BaseModel):
    """Offer `ticket.<ticket>` beside `chat.v1` as a WebSocket subprotocol, within
    `expires_in` seconds, once."""

    ticket: str
    expires_in: int


class Claim(BaseModel):
    outcome: ClaimOutcome
    # Every user id whose chats are now this account's.
    owner_ids: list[str]


def _authenticator(request: Request) -> Authenticator:
    return request.app.state.identity  # type: ignore[no-any-return]


@router.post("/device")
async def new_device(request: Request) -> DeviceIdentity:
    """A new device identity. Nothing is stored, so minting many costs the server nothing."""
    token, user = _authenticator(request).devices.issue()
    return DeviceIdentity(token=token, user=UserView(**vars(user)))


@router.get("/me", responses=errors.responses(401))
async def me(user: CurrentUser) -> UserView:
    return UserView(**vars(user))


@router.post("/ws-ticket", responses=errors.responses(401))
async def ws_ticket(user: CurrentUser, request: Request) -> Ticket:
    authenticator = _authenticator(request)
    ticket = await authenticator.tickets.issue(user)
    return Ticket(ticket=ticket, expires_in=request.app.state.settings.ws_ticket_ttl_seconds)


@router.post("/claim", responses=errors.responses(401, 403, 409))
async def claim_device(
    user: CurrentUser,
    request: Request,
    x_device_identity: str = Header(description="the device token whose chats to claim"),
) -> Claim:
    """Hand this device's anonymous chats to the signed-in account, once and for good."""
    if user.mode == "anonymous":
        raise HTTPException(403, "sign in first: a device cannot claim another device")
    authenticator = _authenticator(request)
    try:
        device = authenticator.devices.verify(x_device_identity)
    except AuthError as error:
        raise HTTPException(403, f"X-Device-Identity: {error}") from error
    outcome = await authenticator.claims.claim(device.id, user.id)
    if outcome is ClaimOutcome.CLAIMED_BY_ANOTHER:
        raise HTTPException(409, "this device's chats already belong to another account")
    return Claim(outcome=outcome, owner_ids=await authenticator.claims.owner_ids(user.id))
