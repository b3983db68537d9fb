"""Session-scoped file storage: the uploads a user hands to the Content and Insights pillars."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import redis.asyncio as redis

from agents.capabilities import Upload
from agents.capabilities.content import UploadMetadata, describe_upload
from foundations.communication import text


class TooManyUploads(Exception):
    """The session holds as many files as it may; replacing one by name still works."""


class UploadStore:
    """Uploads in Redis, per session, expiring with the session."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, max_files: int = 20) -> None:
        self._redis = client
        self._ttl_seconds = ttl_seconds
        self._max_files = max_files

    def _keys(self, session_id: str, name: str = "") -> tuple[str, str, str]:
        prefix = f"upload:{session_id}"
        return f"{prefix}:meta", f"{prefix}:order", f"{prefix}:data:{name}"

    async def save(
        self, session_id: str, name: str, data: bytes, content_type: str | None
    ) -> UploadMetadata:
        """Store a file (replacing one of the same name) and what it is."""
        # Hashing and decoding 10 MB is milliseconds of CPU, but not on the event loop.
        metadata = await asyncio.to_thread(describe_upload, name, data, content_type)
        meta_key, order_key, data_key = self._keys(session_id, name)
        replacing = await self._redis.hexists(meta_key, name)
        if not replacing and await self._redis.hlen(meta_key) >= self._max_files:
            raise TooManyUploads(
                f"This session already holds {self._max_files} files; upload under an "
                "existing name to replace one."
            )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(data_key, data, ex=self._ttl_seconds)
            pipe.hset(meta_key, name, json.dumps(dataclasses.asdict(metadata)))
            pipe.lrem(order_key, 0, name)
            pipe.rpush(order_key, name)
            pipe.expire(meta_key, self._ttl_seconds)
            pipe.expire(order_key, self._ttl_seconds)
            await pipe.execute()
        return metadata

    async def list(self, session_id: str) -> list[UploadMetadata]:
        """The session's uploads, oldest first."""
        meta_key, order_key, _ = self._keys(session_id)
        names = [text(name) for name in await self._redis.lrange(order_key, 0, -1)]
        if not names:
            return []
        raw = await self._redis.hmget(meta_key, names)
        return [UploadMetadata(**json.loads(item)) for item in raw if item is not None]

    async def load(self, session_id: str, name: str | None, kinds: frozenset[str]) -> Upload | None:
        """The named upload, or the most recent one of the given kinds; None if there is none."""
        uploads = await self.list(session_id)
        if name is not None:
            chosen = next((u for u in uploads if u.name.casefold() == name.casefold()), None)
        else:
            chosen = next((u for u in reversed(uploads) if u.kind in kinds), None)
        if chosen is None:
            return None
        data = await self._redis.get(self._keys(session_id, chosen.name)[2])
        if data is None:
            return None
        return Upload(
            chosen.name,
            bytes(data) if isinstance(data, bytes) else data.encode(),
            chosen.media_type,
        )
