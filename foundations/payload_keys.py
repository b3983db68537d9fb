"""Data keys for payload encryption: one per chat, kept in Redis, never in Temporal.

A chat is a session workflow, and its key id is the workflow id (`chat-session-{session}`),
so every run of the chat, and every activity it schedules, encrypts under the same key.
Deleting the key makes every stored history of that chat unreadable (crypto-shredding), on
every Temporal server and in every backup that ever held it.

`payload-key:{key id}` holds 32 random bytes (AES-256), hex-encoded, and has no expiry: a key must outlive
the histories it protects (the namespace's retention), and it goes only when its chat is
deleted. Processes cache keys for `PAYLOAD_KEY_CACHE_SECONDS`, so after a delete another
process may still decrypt for at most that long; the process that deletes forgets at once.
"""

from __future__ import annotations

import os
import time

import redis.asyncio as redis

KEY_BYTES = 32
# Payloads encoded with no workflow in context (the codec endpoint's /encode, a client call
# outside any workflow) use this shared key; it is never shredded.
SHARED_KEY_ID = "shared"


def _redis_key(key_id: str) -> str:
    return f"payload-key:{key_id}"


class PayloadKeyStore:
    """Create, read and delete data keys."""

    def __init__(self, redis_client: redis.Redis, cache_seconds: float) -> None:
        self._redis = redis_client
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[bytes, float]] = {}

    async def get_or_create(self, key_id: str) -> bytes:
        """The chat's key, made on its first payload (SET NX: racing processes agree)."""
        key = await self.get(key_id)
        if key is not None:
            return key
        await self._redis.set(_redis_key(key_id), os.urandom(KEY_BYTES).hex(), nx=True)
        key = await self.get(key_id)
        if key is None:  # deleted between the two calls: this chat is being shredded
            raise KeyError(f"the data key {key_id} was deleted while it was being made")
        return key

    async def get(self, key_id: str) -> bytes | None:
        cached = self._cache.get(key_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        stored = await self._redis.get(_redis_key(key_id))
        if stored is None:
            self._cache.pop(key_id, None)
            return None
        text = stored.decode() if isinstance(stored, bytes) else stored
        key = bytes.fromhex(text)
        if len(key) != KEY_BYTES:
            raise ValueError(f"the data key {key_id} in Redis is not {KEY_BYTES} bytes")
        if self._cache_seconds > 0:
            self._cache[key_id] = (key, time.monotonic() + self._cache_seconds)
        return key

    async def delete(self, key_id: str) -> bool:
        """Shred: every payload encrypted under this key becomes unreadable. True if it existed."""
        self._cache.pop(key_id, None)
        return bool(await self._redis.delete(_redis_key(key_id)))
