"""The parts of identity that live in Redis: WebSocket tickets, the dev secret, device claims."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from pydantic import SecretStr

from api.identity import Authenticator, AuthError, User
from api.identity.device import identity_secret
from api.identity.tickets import WebSocketTickets
from foundations.device_claims import ClaimOutcome, DeviceClaims
from foundations.settings import Settings


@pytest.fixture
async def client(lone_redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(lone_redis_url)
    await connection.flushdb()
    yield connection
    await connection.aclose()


ALICE = User(id="jwt:alice", display_name="Alice", mode="jwt")


def handshake(ticket: str) -> dict[str, str]:
    return {"sec-websocket-protocol": f"chat.v1, ticket.{ticket}"}


async def test_a_ticket_opens_one_websocket_as_its_user(client: redis.Redis) -> None:
    authenticator = await Authenticator.open(Settings(), client)
    ticket = await authenticator.tickets.issue(ALICE)
    assert await authenticator.authenticate_websocket("1.2.3.4", handshake(ticket)) == ALICE
    with pytest.raises(AuthError, match="used or expired"):
        await authenticator.authenticate_websocket("1.2.3.4", handshake(ticket))


async def test_two_handshakes_racing_for_one_ticket_get_one_user(client: redis.Redis) -> None:
    tickets = WebSocketTickets(client, 30)
    ticket = await tickets.issue(ALICE)
    results = await asyncio.gather(
        *(tickets.redeem(ticket) for _ in range(10)), return_exceptions=True
    )
    assert sum(isinstance(result, User) for result in results) == 1


async def test_a_ticket_expires(client: redis.Redis) -> None:
    tickets = WebSocketTickets(client, 1)
    ticket = await tickets.issue(ALICE)
    await asyncio.sleep(2.2)
    with pytest.raises(AuthError, match="expired"):
        await tickets.redeem(ticket)


async def test_only_the_tickets_hash_is_stored(client: redis.Redis) -> None:
    ticket = await WebSocketTickets(client, 30).issue(ALICE)
    keys = [str(key) for key in await client.keys("*")]
    assert keys and all(ticket not in key for key in keys)


async def test_a_websocket_without_a_ticket_is_refused(client: redis.Redis) -> None:
    authenticator = await Authenticator.open(Settings(), client)
    issued, _ = authenticator.devices.issue()
    # A device token (or a JWT) offered directly is not a ticket: only tickets open sockets.
    for headers in ({}, {"sec-websocket-protocol": f"chat.v1, ticket.{issued}"}):
        with pytest.raises(AuthError):
            await authenticator.authenticate_websocket("1.2.3.4", headers)


async def test_proxy_mode_sockets_use_the_proxys_header(client: redis.Redis) -> None:
    settings = Settings(auth_mode="proxy", auth_proxies=["127.0.0.1"])
    authenticator = await Authenticator.open(settings, client)
    headers = {"x-forwarded-user": "dave"}
    assert (await authenticator.authenticate_websocket("127.0.0.1", headers)).id == "proxy:dave"
    with pytest.raises(AuthError, match="sign-in proxy"):
        await authenticator.authenticate_websocket("10.9.9.9", headers)


async def test_every_process_shares_the_generated_development_secret(client: redis.Redis) -> None:
    first = await Authenticator.open(Settings(), client)
    second = await Authenticator.open(Settings(), client)
    issued, user = first.devices.issue()
    assert second.devices.verify(issued) == user
    configured = Settings(identity_secret=SecretStr("x" * 32))
    assert await identity_secret(configured, client) == b"x" * 32


async def test_a_device_is_claimed_by_one_account_only(client: redis.Redis) -> None:
    claims = DeviceClaims(client)
    assert await claims.claim("device:d1", "jwt:alice") is ClaimOutcome.CLAIMED
    assert await claims.claim("device:d1", "jwt:alice") is ClaimOutcome.ALREADY_YOURS
    assert await claims.claim("device:d1", "jwt:mallory") is ClaimOutcome.CLAIMED_BY_ANOTHER
    await claims.claim("device:d2", "jwt:alice")
    assert await claims.owner_ids("jwt:alice") == ["jwt:alice", "device:d1", "device:d2"]
    assert await claims.owner_ids("jwt:mallory") == ["jwt:mallory"]
    assert await claims.account_of("device:d1") == "jwt:alice"
    assert await claims.account_of("device:d3") is None
