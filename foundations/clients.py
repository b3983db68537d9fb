"""The clients both processes open from Settings: Redis, and the Communication Foundation on it.

The worker's composition root and the edge's lifespan each call these once.
"""

from __future__ import annotations

import redis.asyncio as redis

from foundations.communication import CommunicationFoundation
from foundations.metrics import CountingRedis
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
