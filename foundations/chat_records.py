"""Every Redis record of one chat, for its deletion: the tombstone that hides it at once, and the
sweep that deletes its keys (docs/privacy.md lists them).

A chat is a session: `chat_id` is the session id. The sweep deletes by pattern, with SCAN, so
that keys of every conversation and every upload go without a list of them; patterns are
escaped, so a chat id can match only its own keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import redis.asyncio as redis

from foundations.communication import text
from foundations.share_links import chat_shares_key, share_key

SCAN_BATCH = 500

# Revokes the session record if there is one: a bare HSET would create a record that never
# expires. KEYS: the session record.
_REVOKE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'status', 'revoked')
end
return 1
"""


def _tombstone_key(chat_id: str) -> str:
    return f"chat-deleting:{chat_id}"


def _glob_escape(value: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", value)


def chat_key_patterns(chat_id: str) -> list[str]:
    """The patterns of the chat's keys, by the module that writes them."""
    chat = _glob_escape(chat_id)
    return [
        f"chat:{chat}:*",  # communication.py: history, events, recorded ids, connections
        f"upload:{chat}:*",  # uploads.py: files and their metadata
        f"rate:session:{chat}:*",  # admission.py: the session's message rate windows
    ]


def chat_keys(chat_id: str) -> list[str]:
    """The chat's keys of fixed names."""
    return [
        f"session:{chat_id}",  # sessions.py: the session record (user id, status)
        f"admit:session-sockets:{chat_id}",  # admission.py: the session's socket slots
        chat_shares_key(chat_id),  # share_links.py: the chat's share ids
    ]


class ChatRecords:
    """Marks chats deleting and deletes their Redis keys."""

    def __init__(self, client: redis.Redis, tombstone_seconds: int) -> None:
        self._redis = client
        # How long a deleted chat still answers "deleting" after its deletion finished.
        self._tombstone_seconds = tombstone_seconds

    async def mark_deleting(self, chat_id: str) -> None:
        """From now on the chat is not found, and its session tokens open nothing."""
        await self._redis.set(_tombstone_key(chat_id), "deleting")
        await self._redis.eval(_REVOKE, 1, f"session:{chat_id}")

    async def is_deleting(self, chat_id: str) -> bool:
        return bool(await self._redis.exists(_tombstone_key(chat_id)))

    async def deleted(self, chat_id: str) -> None:
        """The deletion finished: the tombstone may go once nothing can name the chat."""
        await self._redis.expire(_tombstone_key(chat_id), self._tombstone_seconds)

    async def delete_chat_keys(self, chat_id: str, progress: Callable[[], None]) -> int:
        """Delete every key of the chat (not its tombstone); how many there were."""
        deleted = 0
        shares = await self._redis.smembers(chat_shares_key(chat_id))
        fixed = [*chat_keys(chat_id), *(share_key(text(share)) for share in shares)]
        deleted += int(await self._redis.delete(*fixed))
        for pattern in chat_key_patterns(chat_id):
            batch: list[bytes | str] = []
            async for key in self._redis.scan_iter(match=pattern, count=SCAN_BATCH):
                batch.append(key)
                if len(batch) >= SCAN_BATCH:
                    deleted += int(await self._redis.delete(*batch))
                    batch.clear()
                    progress()
            if batch:
                deleted += int(await self._redis.delete(*batch))
            progress()
        return deleted
