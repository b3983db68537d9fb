"""Session-scoped file storage: the uploads a user hands to the Content and Insights pillars.

The store keeps each file's bytes and the metadata its caller describes it with; what a file
is (its kind, its encoding) is found by the content parser in `agents/`, not here.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Generic, TypeVar

import redis.asyncio as redis

from foundations.communication import text

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# The metadata kept with each file: a dataclass, stored as JSON.
M = TypeVar("M", bound="DataclassInstance")

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


class UploadStore(Generic[M]):
    """Uploads in Redis, per session, expiring with the session."""

    def __init__(
        self, client: redis.Redis, ttl_seconds: int, metadata: type[M], max_files: int = 20
    ) -> None:
        self._redis = client
        self._metadata = metadata
        self._ttl_seconds = ttl_seconds
        self._max_files = max_files
        self._save = client.register_script(_SAVE)
        self._forget = client.register_script(_FORGET)

    def _keys(self, session_id: str, name: str = "") -> tuple[str, str, str]:
        prefix = f"upload:{session_id}"
        return f"{prefix}:meta", f"{prefix}:order", f"{prefix}:data:{name}"

    async def save(self, session_id: str, name: str, data: bytes, metadata: M) -> None:
        """Store a file and its metadata, replacing one of the same name."""
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

    async def forget(self, session_id: str, within_seconds: int) -> None:
        """Let every file of the session expire within `within_seconds` (a closed session)."""
        meta_key, order_key, data_key = self._keys(session_id)
        await self._forget(keys=[meta_key, order_key], args=[data_key, within_seconds])

    async def list(self, session_id: str) -> list[M]:
        """The session's uploads, oldest first."""
        meta_key, order_key, _ = self._keys(session_id)
        names = [text(name) for name in await self._redis.lrange(order_key, 0, -1)]
        if not names:
            return []
        raw = await self._redis.hmget(meta_key, names)
        return [self._metadata(**json.loads(item)) for item in raw if item is not None]

    async def read(self, session_id: str, name: str) -> bytes | None:
        """The bytes of the session's file `name` (exactly as listed); None once it is gone."""
        data = await self._redis.get(self._keys(session_id, name)[2])
        if data is None:
            return None
        return bytes(data) if isinstance(data, bytes) else data.encode()
