"""How a browser's WebSocket proves who it is without a token in its URL.

A browser cannot set `Authorization` on a WebSocket, and a token in the query string ends up
in access logs, proxy logs and browser history. So the page first asks
`POST /api/auth/ws-ticket` (authenticated like any REST call) for a ticket: 256 random bits,
valid for `WS_TICKET_TTL_SECONDS` (30 s) and for one handshake only. It then opens the socket
offering two subprotocols, `new WebSocket(url, ["chat.v1", "ticket." + ticket])`, which the
browser sends as the `Sec-WebSocket-Protocol` header: not part of the URL, and not logged by
uvicorn. The server redeems the ticket before it accepts, and accepts with `chat.v1` alone,
so the ticket is never echoed back. Even if some proxy logs the header, the ticket is spent.

Redis holds `ws-ticket:{sha256(ticket)}` -> the user, with the ticket's TTL; `GETDEL`
redeems it, so two handshakes can never share one.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping

import redis.asyncio as redis

from api.identity.user import AuthError, User

# The subprotocol a socket is accepted with; a browser that offered subprotocols fails the
# connection unless the server picks one of them.
WEBSOCKET_SUBPROTOCOL = "chat.v1"
TICKET_PREFIX = "ticket."
# The close code of a socket that proved no identity (no ticket, or a spent or expired one):
# the page asks for a new ticket and reconnects, or signs in again.
CLOSE_UNAUTHENTICATED = 4401
_TICKET = re.compile(r"[A-Za-z0-9_-]{43}")


def _key(ticket: str) -> str:
    return f"ws-ticket:{hashlib.sha256(ticket.encode()).hexdigest()}"


class WebSocketTickets:
    """Issues and redeems single-use WebSocket tickets."""

    def __init__(self, redis_client: redis.Redis, ttl_seconds: int) -> None:
        self._redis = redis_client
        self._ttl = ttl_seconds

    async def issue(self, user: User) -> str:
        ticket = secrets.token_urlsafe(32)
        record = {"id": user.id, "display_name": user.display_name, "mode": user.mode}
        await self._redis.set(_key(ticket), json.dumps(record), ex=self._ttl)
        return ticket

    async def redeem(self, ticket: str) -> User:
        if not _TICKET.fullmatch(ticket):
            raise AuthError("the WebSocket ticket is malformed")
        record = await self._redis.getdel(_key(ticket))
        if record is None:
            raise AuthError("the WebSocket ticket is unknown, used or expired; ask for a new one")
        fields = json.loads(record)
        return User(id=fields["id"], display_name=fields["display_name"], mode=fields["mode"])


def offered_ticket(headers: Mapping[str, str]) -> str | None:
    """The ticket among the subprotocols a handshake offered, if any."""
    for protocol in headers.get("sec-websocket-protocol", "").split(","):
        protocol = protocol.strip()
        if protocol.startswith(TICKET_PREFIX):
            return protocol.removeprefix(TICKET_PREFIX)
    return None
