"""Data keys for payload encryption: one per chat, kept in Redis, never in Temporal.

A chat is a session workflow, and its key id is the workflow id (`chat-session-{session}`),
so every run of the chat, and every activity it schedules, encrypts under the same key.
Deleting the key makes every stored history of that chat unreadable (crypto-shredding), on
every Temporal server and in every backup that ever held it.

`payload-key:{key id}` holds 32 random bytes (AES-256), hex-encoded, and has no expiry: a key
must outlive the histories it protects (the namespace's retention), and it goes only when its
chat is deleted. With a master key (`PAYLOAD_MASTER_KEY_FILE`) each data key is stored
wrapped by it (AES-GCM, `w1:` + hex), so a copy of Redis alone opens no history; a data key
stored before the master key was configured is still read. Processes cache keys for `PAYLOAD_KEY_CACHE_SECONDS`, so after a delete another
process may still decrypt for at most that long; the process that deletes forgets at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import redis.asyncio as redis
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from foundations.settings import Settings

KEY_BYTES = 32
# Payloads encoded with no workflow in context (the codec endpoint's /encode, a client call
# outside any workflow) use this shared key; it is never shredded.
SHARED_KEY_ID = "shared"
WRAPPED = "w1:"
_NONCE_BYTES = 12


def _redis_key(key_id: str) -> str:
    return f"payload-key:{key_id}"


class PayloadKeyStore:
    """Create, read and delete data keys."""

    def __init__(
        self, redis_client: redis.Redis, cache_seconds: float, master_key: bytes | None = None
    ) -> None:
        self._redis = redis_client
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[bytes, float]] = {}
        self._master = AESGCM(master_key) if master_key is not None else None

    async def get_or_create(self, key_id: str) -> bytes:
        """The chat's key, made on its first payload (SET NX: racing processes agree)."""
        key = await self.get(key_id)
        if key is not None:
            return key
        stored = self._wrap(key_id, os.urandom(KEY_BYTES))
        await self._redis.set(_redis_key(key_id), stored, nx=True)
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
        key = self._unwrap(key_id, stored.decode() if isinstance(stored, bytes) else stored)
        if self._cache_seconds > 0:
            self._cache[key_id] = (key, time.monotonic() + self._cache_seconds)
        return key

    async def delete(self, key_id: str) -> bool:
        """Shred: every payload encrypted under this key becomes unreadable. True if it existed."""
        self._cache.pop(key_id, None)
        return bool(await self._redis.delete(_redis_key(key_id)))

    def _wrap(self, key_id: str, key: bytes) -> str:
        if self._master is None:
            return key.hex()
        nonce = os.urandom(_NONCE_BYTES)
        return WRAPPED + (nonce + self._master.encrypt(nonce, key, key_id.encode())).hex()

    def _unwrap(self, key_id: str, stored: str) -> bytes:
        if stored.startswith(WRAPPED):
            if self._master is None:
                raise ValueError(
                    f"the data key {key_id} is wrapped: set PAYLOAD_MASTER_KEY_FILE to read it"
                )
            sealed = bytes.fromhex(stored.removeprefix(WRAPPED))
            try:
                key = self._master.decrypt(
                    sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], key_id.encode()
                )
            except InvalidTag as error:
                raise ValueError(
                    f"the data key {key_id} was wrapped by another master key"
                ) from error
        else:
            key = bytes.fromhex(stored)
        if len(key) != KEY_BYTES:
            raise ValueError(f"the data key {key_id} in Redis is not {KEY_BYTES} bytes")
        return key


def master_key(path: str) -> bytes:
    """The master key in a file: 64 hex digits (make one with `openssl rand -hex 32`)."""
    try:
        text = Path(path).read_text().strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as error:
        raise ValueError(f"PAYLOAD_MASTER_KEY_FILE {path}: {error}") from error
    if len(key) != KEY_BYTES:
        raise ValueError(f"PAYLOAD_MASTER_KEY_FILE {path} must hold {KEY_BYTES * 2} hex digits")
    return key


def open_payload_keys(settings: Settings, redis_client: redis.Redis) -> PayloadKeyStore:
    """The key store as the settings describe it; raises ValueError on a bad key file."""
    wrapping = (
        master_key(settings.payload_master_key_file) if settings.payload_master_key_file else None
    )
    return PayloadKeyStore(redis_client, settings.payload_key_cache_seconds, wrapping)
