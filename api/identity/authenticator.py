"""One entry point per transport: a REST request or a WebSocket handshake -> a `User`."""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as redis

from api.identity.bearer import BearerVerifier
from api.identity.device import DeviceIdentities, identity_secret
from api.identity.proxy import ProxyIdentity
from api.identity.tickets import WebSocketTickets, offered_ticket
from api.identity.user import AuthError, User
from foundations.device_claims import DeviceClaims
from foundations.settings import Settings


class Authenticator:
    """Proves identities in the configured `AUTH_MODE`.

    Device identities are issued and verified in every mode: in `jwt` and `proxy` mode they
    name the device whose anonymous chats a signed-in user may claim.
    """

    def __init__(
        self,
        settings: Settings,
        devices: DeviceIdentities,
        tickets: WebSocketTickets,
        claims: DeviceClaims,
    ) -> None:
        self.mode = settings.auth_mode
        self.devices = devices
        self.tickets = tickets
        self.claims = claims
        self._bearer = BearerVerifier(settings) if self.mode == "jwt" else None
        self._proxy = ProxyIdentity(settings) if self.mode == "proxy" else None

    @classmethod
    async def open(cls, settings: Settings, redis_client: redis.Redis) -> Authenticator:
        """Built once by the API's lifespan."""
        secret = await identity_secret(settings, redis_client)
        return cls(
            settings,
            DeviceIdentities(secret),
            WebSocketTickets(redis_client, settings.ws_ticket_ttl_seconds),
            DeviceClaims(redis_client),
        )

    async def authenticate(self, peer: str | None, headers: Mapping[str, str]) -> User:
        """A REST request's user: a bearer credential, or in proxy mode the proxy's header."""
        if self._proxy is not None:
            return self._proxy.user(peer, headers)
        token = bearer_token(headers)
        if self._bearer is not None:
            return await self._bearer.verify(token)
        return self.devices.verify(token)

    async def authenticate_websocket(self, peer: str | None, headers: Mapping[str, str]) -> User:
        """A handshake's user: a ticket among its subprotocols, or in proxy mode the header
        the proxy set on the handshake itself."""
        ticket = offered_ticket(headers)
        if ticket is not None:
            return await self.tickets.redeem(ticket)
        if self._proxy is not None:
            return self._proxy.user(peer, headers)
        raise AuthError("a WebSocket needs a ticket from POST /api/auth/ws-ticket")


def bearer_token(headers: Mapping[str, str]) -> str:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("send your credential as 'Authorization: Bearer <token>'")
    return token.strip()
