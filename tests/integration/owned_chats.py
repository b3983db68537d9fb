"""Chats of a user of their own, for the tests of the chat routes."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import redis.asyncio as redis

from api.identity.device import DeviceIdentities, identity_secret
from foundations.sessions import SessionStore
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
    owner, user_id = await device(redis_url)
    # The session store directly: the chat is its user's, as a chat the page starts will be.
    client = redis.Redis.from_url(redis_url)
    grant = await SessionStore(client, 3600).create(user_id)
    await client.aclose()
    chat = Chat(grant.record.session_id, grant.token, owner)
    for path, body in (
        ("/api/chat/guide", {}),
        ("/api/chat/liaison", {"pillar": "content"}),
    ):
        answer = await http.post(
            path, json={"message": "my account is 1234", "session_token": grant.token, **body}
        )
        assert answer.status_code == 200, answer.text
    return chat


async def chat_keys(redis_url: str, chat_id: str) -> set[str]:
    client = redis.Redis.from_url(redis_url)
    keys = {key.decode() async for key in client.scan_iter(match=f"*{chat_id}*")}
    await client.aclose()
    return keys
