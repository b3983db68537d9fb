"""Share links: read-only access to one conversation of a chat, revocable, expiring.

`share:{share_id}` holds what a link opens (the chat, the conversation, who made it, when it
expires) and expires with the link, so an expired link is simply gone. `chat-shares:{chat_id}`
lists a chat's links, for listing them and for deleting them with the chat. The id is 128
random bits: the link is the credential, so it cannot be guessed.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import redis.asyncio as redis

from foundations.communication import text


def share_key(share_id: str) -> str:
    return f"share:{share_id}"


def chat_shares_key(chat_id: str) -> str:
    return f"chat-shares:{chat_id}"


@dataclass(frozen=True)
class ShareLink:
    share_id: str
    chat_id: str
    conversation: str
    owner: str
    expires_at: float


class TooManyShares(Exception):
    """The chat holds as many live share links as it may; revoke one first."""


class ShareLinks:
    """Creates, reads, lists and revokes share links."""

    def __init__(self, client: redis.Redis, max_per_chat: int) -> None:
        self._redis = client
        self._max_per_chat = max_per_chat

    async def create(
        self, chat_id: str, conversation: str, owner: str, expires_in: int
    ) -> ShareLink:
        if len(await self.of_chat(chat_id)) >= self._max_per_chat:
            raise TooManyShares(
                f"This chat has {self._max_per_chat} share links; revoke one to make another."
            )
        link = ShareLink(
            secrets.token_urlsafe(16), chat_id, conversation, owner, time.time() + expires_in
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                share_key(link.share_id),
                mapping={
                    "chat_id": chat_id,
                    "conversation": conversation,
                    "owner": owner,
                    "expires_at": link.expires_at,
                },
            )
            pipe.expire(share_key(link.share_id), expires_in)
            pipe.sadd(chat_shares_key(chat_id), link.share_id)
            # The list lives as long as its longest-lived link.
            pipe.expire(chat_shares_key(chat_id), expires_in, gt=True)
            pipe.expire(chat_shares_key(chat_id), expires_in, nx=True)
            await pipe.execute()
        return link

    async def get(self, share_id: str) -> ShareLink | None:
        """The live link, or None for a revoked, expired or made-up one."""
        if not share_id or len(share_id) > 64 or not share_id.isascii():
            return None
        raw = await self._redis.hgetall(share_key(share_id))
        if not raw:
            return None
        fields = {text(key): text(value) for key, value in raw.items()}
        return ShareLink(
            share_id,
            fields["chat_id"],
            fields["conversation"],
            fields["owner"],
            float(fields["expires_at"]),
        )

    async def of_chat(self, chat_id: str) -> list[ShareLink]:
        """The chat's live links, soonest to expire first; expired ones leave the list."""
        ids = [text(share) for share in await self._redis.smembers(chat_shares_key(chat_id))]
        links = []
        gone = []
        for share_id in ids:
            link = await self.get(share_id)
            if link is None:
                gone.append(share_id)
            else:
                links.append(link)
        if gone:
            await self._redis.srem(chat_shares_key(chat_id), *gone)
        return sorted(links, key=lambda link: link.expires_at)

    async def revoke(self, link: ShareLink) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(share_key(link.share_id))
            pipe.srem(chat_shares_key(link.chat_id), link.share_id)
            await pipe.execute()
