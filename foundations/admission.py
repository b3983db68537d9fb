"""Admission, counted in Redis: what one client address may open, and which messages pass.

The counters live in Redis, not in the API process, so the limits hold however many API
replicas share the load. Refusals carry a `retry_after`: the seconds until trying again can
succeed. The message rules (`MessageAdmission`) are enforced by Traffic Cop inside the turn
and pre-checked by the edge, which is why they live here, below both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis.asyncio as redis

from foundations.errors import BLOCKED_TERM, ErrorCode
from foundations.settings import Settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# A socket's slot is a lease renewed while it lives, so a crashed API process frees its
# sockets' slots within one lease instead of holding them for the session's lifetime.
SLOT_LEASE_SECONDS = 90
SLOT_RENEW_SECONDS = 30

# Drops expired leases, then takes a slot if one is free. Returns 1 if taken, else 0.
_CLAIM_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True)
class Refusal:
    """Why a client was turned away, for the client: a stable code, a sentence, a wait."""

    code: ErrorCode
    message: str
    retry_after: int


def window_retry_after(now: float, window_seconds: int = WINDOW_SECONDS) -> int:
    """Seconds until the fixed window that holds `now` ends (at least 1)."""
    return max(1, math.ceil(window_seconds - now % window_seconds))


class EdgeAdmission:
    """Per-client limits on new sessions and new sockets, and a cap on sockets per session."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings
        self._claim_slot = client.register_script(_CLAIM_SLOT)
        # The slots this process holds, by session key: one task renews them all, where a
        # task per socket would cost every idle socket a task and a timer.
        self._leases: dict[str, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None

    async def new_session(self, client: str) -> Refusal | None:
        """Count a session about to be created for `client`; a Refusal past the limit."""
        limit = self._settings.client_sessions_per_minute
        return await self._count(
            f"admit:sessions:{client}",
            limit,
            ErrorCode.TOO_MANY_SESSIONS,
            f"Too many new sessions from your address (at most {limit} a minute).",
        )

    async def new_socket(self, client: str) -> Refusal | None:
        """Count a socket `client` is opening; a Refusal past the limit."""
        limit = self._settings.client_sockets_per_minute
        return await self._count(
            f"admit:sockets:{client}",
            limit,
            ErrorCode.TOO_MANY_SOCKETS,
            f"Too many new connections from your address (at most {limit} a minute).",
        )

    async def _count(
        self, prefix: str, limit: int, code: ErrorCode, message: str
    ) -> Refusal | None:
        now = time.time()
        key = f"{prefix}:{int(now // WINDOW_SECONDS)}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_SECONDS)
            count, _ = await pipe.execute()
        if count <= limit:
            return None
        return Refusal(code, message, window_retry_after(now))

    @asynccontextmanager
    async def socket_slot(
        self, session_id: str, connection_id: str
    ) -> AsyncIterator[Refusal | None]:
        """Hold one of the session's socket slots while the block runs; None if one was free.

        Yields a Refusal (and holds nothing) when the session already has its maximum of
        sockets open.
        """
        key = f"admit:session-sockets:{session_id}"
        limit = self._settings.max_sockets_per_session
        now = time.time()
        taken = await self._claim_slot(
            keys=[key],
            args=[now, now + SLOT_LEASE_SECONDS, limit, connection_id, 2 * SLOT_LEASE_SECONDS],
        )
        if not taken:
            yield Refusal(
                ErrorCode.SESSION_SOCKETS_FULL,
                f"This session already has {limit} connections open; close one.",
                SLOT_RENEW_SECONDS,
            )
            return
        self._leases.setdefault(key, set()).add(connection_id)
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_all(), name="socket-slot-renewer")
        try:
            yield None
        finally:
            held = self._leases.get(key)
            if held is not None:
                held.discard(connection_id)
                if not held:
                    del self._leases[key]
            # Unreachable Redis: the lease runs out by itself.
            with contextlib.suppress(redis.RedisError):
                await self._redis.zrem(key, connection_id)

    async def _renew_all(self) -> None:
        """Renew every lease this process holds, every SLOT_RENEW_SECONDS, while it holds any."""
        try:
            while self._leases:
                await asyncio.sleep(SLOT_RENEW_SECONDS)
                leases = [(key, list(held)) for key, held in self._leases.items()]
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        until = time.time() + SLOT_LEASE_SECONDS
                        for key, connection_ids in leases:
                            pipe.zadd(key, dict.fromkeys(connection_ids, until), xx=True)
                            pipe.expire(key, 2 * SLOT_LEASE_SECONDS)
                        await pipe.execute()
                except redis.RedisError as error:
                    # The next round tries again; a lease outlives two missed rounds.
                    logger.warning("could not renew socket slots: %r", error)
        finally:
            self._renewer = None


# --- messages ------------------------------------------------------------------------------


@dataclass
class Admission:
    """Whether a message may enter a conversation."""

    admitted: bool
    # Why not, for the user: a stable code and a readable sentence.
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ContentPolicy:
    """Terms a deployment refuses to accept in messages (case-insensitive)."""

    blocked_terms: tuple[str, ...] = ()

    def violation(self, text: str) -> str | None:
        lowered = text.casefold()
        for term in self.blocked_terms:
            if term.casefold() in lowered:
                return term
        return None


@dataclass(frozen=True)
class RateLimits:
    session_per_minute: int
    user_per_minute: int


def _rate_keys(session_id: str, user_id: str, now: float) -> tuple[str, str]:
    """The counters of the minute that holds `now`: per session and per user."""
    window = int(now // WINDOW_SECONDS)
    return f"rate:session:{session_id}:{window}", f"rate:user:{user_id}:{window}"


class MessageAdmission:
    """The content policy and the per-session and per-user message limits (fixed minutes)."""

    def __init__(self, cache: redis.Redis, policy: ContentPolicy, limits: RateLimits) -> None:
        self._cache = cache
        self._policy = policy
        self._limits = limits

    async def admit(self, session_id: str, user_id: str, message: str) -> Admission:
        """Count the message against the limits and say whether it passes."""
        if self._policy.violation(message) is not None:
            return _blocked()
        session_key, user_key = _rate_keys(session_id, user_id, time.time())
        async with self._cache.pipeline(transaction=False) as pipe:
            pipe.incr(session_key)
            pipe.expire(session_key, 2 * WINDOW_SECONDS)
            pipe.incr(user_key)
            pipe.expire(user_key, 2 * WINDOW_SECONDS)
            session_count, _, user_count, _ = await pipe.execute()
        return self._within_limits(session_count, user_count)

    async def precheck(self, session_id: str, user_id: str, message: str) -> Admission:
        """What `admit` would refuse now, found without counting anything.

        The edge asks this first, so a message that is sure to be refused never reaches the
        workflow and writes nothing to its history; `admit` stays the authority (a message
        let through here can still be refused there).
        """
        if self._policy.violation(message) is not None:
            return _blocked()
        session_count, user_count = await self._cache.mget(
            _rate_keys(session_id, user_id, time.time())
        )
        # The counts a message admitted now would bring.
        return self._within_limits(int(session_count or 0) + 1, int(user_count or 0) + 1)

    def _within_limits(self, session_count: int, user_count: int) -> Admission:
        if session_count > self._limits.session_per_minute:
            return Admission(
                False,
                ErrorCode.RATE_LIMITED,
                f"Slow down: at most {self._limits.session_per_minute} messages a minute "
                "per session.",
            )
        if user_count > self._limits.user_per_minute:
            return Admission(
                False,
                ErrorCode.RATE_LIMITED,
                f"Slow down: at most {self._limits.user_per_minute} messages a minute per user.",
            )
        return Admission(True)


def _blocked() -> Admission:
    return Admission(False, ErrorCode.CONTENT_POLICY, BLOCKED_TERM)
