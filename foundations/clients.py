"""The clients both processes open from Settings: Redis, and the Communication Foundation on it.

The worker's composition root and the edge's lifespan each call these once.
"""

from __future__ import annotations

from collections.abc import Callable

import redis.asyncio as redis
from temporalio.converter import DataConverter

from foundations.communication import CommunicationFoundation
from foundations.metrics import CountingRedis
from foundations.payload_codec import encrypted_data_converter
from foundations.payload_converter import DATA_CONVERTER
from foundations.payload_keys import PayloadKeyStore
from foundations.settings import Settings


def open_redis(settings: Settings) -> redis.Redis:
    """A Redis client whose pool makes a burst wait for a connection instead of failing."""
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=10
    )
    return CountingRedis(connection_pool=pool)


def communication_foundation(client: redis.Redis, settings: Settings) -> CommunicationFoundation:
    return CommunicationFoundation(
        client,
        stream_max_events=settings.stream_max_events,
        history_max_messages=settings.history_max_messages,
        retention_seconds=settings.session_ttl_seconds,
    )


def temporal_data_converter(
    settings: Settings, keys: PayloadKeyStore, is_chat: Callable[[str], bool]
) -> DataConverter:
    """The one converter of the worker and the API's client: payloads sealed per chat
    (`is_chat(workflow_id)`), or only read while `PAYLOAD_ENCRYPTION=decode` (docs/privacy.md).
    The process's one key store: deleting a key through it forgets it at once."""
    return encrypted_data_converter(
        keys,
        base=DATA_CONVERTER,
        seal=settings.payload_encryption == "on",
        own_key=is_chat,
    )
