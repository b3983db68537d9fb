"""Chats of a user of their own, for the tests of the chat routes."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import redis.asyncio as redis

from api.identity.device import DeviceIdentities, identity_secret
from foundations.settings import Settings


@dataclass
class Chat:
    chat_id: str
    session_token: str
    owner: dict[str, str]


async def device(redis_url: str) -> tuple[dict[str, str], str]:
    """A device identity's Authorization header and user id, minted with the API's secret."""
    client = redis.Redis.from_url(redis_url)
    secret = await identity_secret(Settings(redis_url=redis_url), client)
    await client.aclose()
    token, user = DeviceIdentities(secret).issue()
    return {"Authorization": f"Bearer {token}"}, user.id


async def new_chat(http: httpx.AsyncClient, redis_url: str) -> Chat:
    """A chat of a new device user with a message in two conversations."""
    owner, _ = await device(redis_url)
    created = await http.post("/api/chats", headers=owner)
    assert created.status_code == 201, created.text
    body = created.json()
    chat = Chat(body["chat"]["chat_id"], body["session_token"], owner)
    for path, extra in (
        ("/api/chat/guide", {}),
        ("/api/chat/liaison", {"pillar": "content"}),
    ):
        answer = await http.post(
            path,
            json={"message": "my account is 1234", "session_token": chat.session_token, **extra},
            headers=owner,
        )
        assert answer.status_code == 200, answer.text
    return chat


async def chat_keys(redis_url: str, chat_id: str) -> set[str]:
    client = redis.Redis.from_url(redis_url)
    keys = {key.decode() async for key in client.scan_iter(match=f"*{chat_id}*")}
    await client.aclose()
    return keys
