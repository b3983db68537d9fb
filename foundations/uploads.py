"""Session-scoped file storage: the uploads a user hands to the Content and Insights pillars."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import redis.asyncio as redis

from agents.capabilities import Upload
from agents.capabilities.content import UploadMetadata, describe_upload
from foundations.communication import text

# Stores a file unless that would take the session past its file count: check and write in
# one step, so that concurrent uploads cannot both pass the check.
# KEYS: meta, order, data; ARGV: name, data, metadata, ttl, max files. Returns 0 when full.
_SAVE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
    and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then
  return 0
end
redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""

# Lets every file of a session expire within ARGV[2] seconds. KEYS: meta, order;
# ARGV[1]: the prefix of the data keys.
_FORGET = """
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  redis.call('EXPIRE', ARGV[1] .. name, ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


class TooManyUploads(Exception):
    """The session holds as many files as it may; replacing one by name still works."""


class UploadStore:
    """Uploads in Redis, per session, expiring with the session."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, max_files: int = 20) -> None:
        self._redis = client
        self._ttl_seconds = ttl_seconds
        self._max_files = max_files
        self._save = client.register_script(_SAVE)
        self._forget = client.register_script(_FORGET)

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
        saved = await self._save(
            keys=[meta_key, order_key, data_key],
            args=[
                name,
                data,
                json.dumps(dataclasses.asdict(metadata)),
                self._ttl_seconds,
                self._max_files,
            ],
        )
        if not saved:
            raise TooManyUploads(
                f"This session already holds {self._max_files} files; upload under an "
                "existing name to replace one."
            )
        return metadata

    async def forget(self, session_id: str, within_seconds: int) -> None:
        """Let every file of the session expire within `within_seconds` (a closed session)."""
        meta_key, order_key, data_key = self._keys(session_id)
        await self._forget(keys=[meta_key, order_key], args=[data_key, within_seconds])

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
