"""Identity over real HTTP and WebSocket: uvicorn serving the identity routes and a socket
route that accepts as its user, Redis for tickets and claims, a local JWKS endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI, WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.auth_routes import router
from api.identity import (
    CLOSE_UNAUTHENTICATED,
    WEBSOCKET_SUBPROTOCOL,
    Authenticator,
    accept_as_user,
)
from foundations.settings import Settings
from tests.jwks_server import AUDIENCE, ISSUER, JwksServer
from tests.serve_app import serving


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    server.add_key("k1")
    yield server
    server.close()


@asynccontextmanager
async def edge(settings: Settings) -> AsyncIterator[str]:
    """The identity routes and a socket that says who it was accepted as."""
    app = FastAPI()
    app.include_router(router)

    @app.websocket("/ws")
    async def whoami(websocket: WebSocket) -> None:
        user = await accept_as_user(websocket)
        if user is not None:
            await websocket.send_json({"user": user.id})
            await websocket.close()

    client = redis.Redis.from_url(settings.redis_url)
    app.state.settings = settings
    app.state.identity = await Authenticator.open(settings, client)
    try:
        async with serving(app) as url:
            yield url
    finally:
        await client.aclose()


def jwt_settings(redis_url: str, jwks: JwksServer) -> Settings:
    return Settings(
        redis_url=redis_url,
        auth_mode="jwt",
        jwt_jwks_url=jwks.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def socket_user(base: str, ticket: str | None) -> tuple[str | None, Any]:
    """Open the socket as a browser would; returns (accepted subprotocol, first frame or close)."""
    protocols: list[Any] = [WEBSOCKET_SUBPROTOCOL]
    if ticket is not None:
        protocols.append(f"ticket.{ticket}")
    async with connect(base.replace("http", "ws") + "/ws", subprotocols=protocols) as ws:
        try:
            return ws.subprotocol, await ws.recv()
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return ws.subprotocol, (closed.rcvd.code, closed.rcvd.reason)


async def test_two_jwt_users_each_get_their_own_identity_and_socket(
    lone_redis_url: str, jwks: JwksServer
) -> None:
    async with edge(jwt_settings(lone_redis_url, jwks)) as base, httpx.AsyncClient() as http:
        refused = await http.get(f"{base}/api/auth/me")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in refused.json()["detail"]

        for subject in ("alice", "bob"):
            token = jwks.token("k1", sub=subject)
            me = await http.get(f"{base}/api/auth/me", headers=bearer(token))
            assert me.json() == {"id": f"jwt:{subject}", "display_name": subject, "mode": "jwt"}

            ticket = (await http.post(f"{base}/api/auth/ws-ticket", headers=bearer(token))).json()
            assert ticket["expires_in"] == 30
            subprotocol, frame = await socket_user(base, ticket["ticket"])
            # Accepted with chat.v1 alone: the ticket is never echoed back.
            assert subprotocol == WEBSOCKET_SUBPROTOCOL
            assert frame == f'{{"user":"jwt:{subject}"}}'
            # The ticket is spent.
            _, closed = await socket_user(base, ticket["ticket"])
            assert closed[0] == CLOSE_UNAUTHENTICATED and "ask for a new one" in closed[1]


async def test_a_socket_without_a_ticket_is_told_why_it_is_closed(
    lone_redis_url: str, jwks: JwksServer
) -> None:
    async with edge(jwt_settings(lone_redis_url, jwks)) as base:
        subprotocol, closed = await socket_user(base, None)
        assert subprotocol == WEBSOCKET_SUBPROTOCOL
        assert closed == (
            CLOSE_UNAUTHENTICATED,
            "a WebSocket needs a ticket from POST /api/auth/ws-ticket",
        )


async def test_an_anonymous_browser_gets_a_device_identity_that_lasts(lone_redis_url: str) -> None:
    settings = Settings(redis_url=lone_redis_url)
    async with edge(settings) as base, httpx.AsyncClient() as http:
        device = (await http.post(f"{base}/api/auth/device")).json()
        assert device["user"]["mode"] == "anonymous"
        me = await http.get(f"{base}/api/auth/me", headers=bearer(device["token"]))
        assert me.json() == device["user"]
        ticket = await http.post(f"{base}/api/auth/ws-ticket", headers=bearer(device["token"]))
        _, frame = await socket_user(base, ticket.json()["ticket"])
        assert device["user"]["id"] in frame
    # Another API process (a restart, a replica) verifies the same device.
    async with edge(settings) as base, httpx.AsyncClient() as http:
        me = await http.get(f"{base}/api/auth/me", headers=bearer(device["token"]))
        assert me.status_code == 200 and me.json() == device["user"]
        forged = device["token"][:-2] + ("AA" if not device["token"].endswith("AA") else "BB")
        assert (await http.get(f"{base}/api/auth/me", headers=bearer(forged))).status_code == 401


async def test_the_proxy_header_is_refused_from_an_untrusted_address(lone_redis_url: str) -> None:
    headers = {"X-Forwarded-User": "erin", "X-Forwarded-Email": "erin@example.test"}
    # This test's requests come from 127.0.0.1, which is not the configured proxy ...
    elsewhere = Settings(redis_url=lone_redis_url, auth_mode="proxy", auth_proxies=["10.0.0.0/8"])
    async with edge(elsewhere) as base, httpx.AsyncClient() as http:
        refused = await http.get(
            f"{base}/api/auth/me", headers={**headers, "X-Forwarded-For": "10.0.0.1"}
        )
        assert refused.status_code == 401
        assert "only from the sign-in proxy" in refused.json()["detail"]
    # ... and accepted once it is.
    here = Settings(redis_url=lone_redis_url, auth_mode="proxy", auth_proxies=["127.0.0.1"])
    async with edge(here) as base, httpx.AsyncClient() as http:
        me = await http.get(f"{base}/api/auth/me", headers=headers)
        assert me.json() == {
            "id": "proxy:erin",
            "display_name": "erin@example.test",
            "mode": "proxy",
        }


async def test_an_account_claims_the_device_it_signed_in_on_once(
    lone_redis_url: str, jwks: JwksServer
) -> None:
    async with edge(jwt_settings(lone_redis_url, jwks)) as base, httpx.AsyncClient() as http:
        device = (await http.post(f"{base}/api/auth/device")).json()
        alice, mallory = jwks.token("k1", sub="alice2"), jwks.token("k1", sub="mallory")
        claim = {"X-Device-Identity": device["token"]}

        first = await http.post(f"{base}/api/auth/claim", headers={**bearer(alice), **claim})
        assert first.json() == {
            "outcome": "claimed",
            "owner_ids": ["jwt:alice2", device["user"]["id"]],
        }
        again = await http.post(f"{base}/api/auth/claim", headers={**bearer(alice), **claim})
        assert again.json()["outcome"] == "already_yours"
        stolen = await http.post(f"{base}/api/auth/claim", headers={**bearer(mallory), **claim})
        assert stolen.status_code == 409
        forged = {"X-Device-Identity": device["token"][:-1] + "x"}
        bad = await http.post(f"{base}/api/auth/claim", headers={**bearer(mallory), **forged})
        assert bad.status_code == 403
