"""Traffic Cop: admits messages and keeps track of who is connected to which conversation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from temporalio import activity

from agents.catalog import AgentType
from foundations.communication import CommunicationFoundation
from foundations.gateway import Realm
from foundations.sessions import SessionGrant, SessionRecord, SessionStatus, SessionStore

# Message rate limits count per fixed minute.
RATE_WINDOW_SECONDS = 60


@dataclass
class AdmitInput:
    session_id: str
    user_id: str
    conversation: AgentType
    message: str


@dataclass
class Admission:
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


def _rate_keys(session_id: str, user_id: str, now: float) -> tuple[str, str]:
    """The counters of the minute that holds `now`: per session and per user."""
    window = int(now // RATE_WINDOW_SECONDS)
    return f"rate:session:{session_id}:{window}", f"rate:user:{user_id}:{window}"


@dataclass(frozen=True)
class RateLimits:
    session_per_minute: int
    user_per_minute: int


class TrafficCop:
    """Session admission, rate limits and the WebSocket connection registry."""

    REALM = Realm.SMART_CITY
    USES = ("session", "cache", "policy", "communication_foundation")

    def __init__(
        self,
        sessions: SessionStore,
        cache: redis.Redis,
        policy: ContentPolicy,
        limits: RateLimits,
        communication: CommunicationFoundation,
    ) -> None:
        self._sessions = sessions
        self._cache = cache
        self._policy = policy
        self._limits = limits
        self._communication = communication

    @activity.defn
    async def admit_message(self, input: AdmitInput) -> Admission:
        """Admit a message if its session is live, it breaks no policy and no limit is hit."""
        session = await self._sessions.get(input.session_id)
        if session is None or not session.usable(time.time()):
            return Admission(False, "session_invalid", "This session has ended or was revoked.")
        term = self._policy.violation(input.message)
        if term is not None:
            return Admission(False, "content_policy", "The message contains a blocked term.")
        session_key, user_key = _rate_keys(input.session_id, input.user_id, time.time())
        async with self._cache.pipeline(transaction=False) as pipe:
            pipe.incr(session_key)
            pipe.expire(session_key, 120)
            pipe.incr(user_key)
            pipe.expire(user_key, 120)
            session_count, _, user_count, _ = await pipe.execute()
        return self._within_limits(session_count, user_count)

    async def precheck_message(self, session_id: str, user_id: str, message: str) -> Admission:
        """What `admit_message` would refuse now, found without counting anything.

        The edge asks this first, so a message that is sure to be refused never reaches the
        workflow and writes nothing to its history; `admit_message` stays the authority (a
        message let through here can still be refused there).
        """
        if self._policy.violation(message) is not None:
            return Admission(False, "content_policy", "The message contains a blocked term.")
        session_count, user_count = await self._cache.mget(
            _rate_keys(session_id, user_id, time.time())
        )
        # The counts a message admitted now would bring.
        return self._within_limits(int(session_count or 0) + 1, int(user_count or 0) + 1)

    def _within_limits(self, session_count: int, user_count: int) -> Admission:
        if session_count > self._limits.session_per_minute:
            return Admission(
                False,
                "rate_limited",
                f"Slow down: at most {self._limits.session_per_minute} messages a minute "
                "per session.",
            )
        if user_count > self._limits.user_per_minute:
            return Admission(
                False,
                "rate_limited",
                f"Slow down: at most {self._limits.user_per_minute} messages a minute per user.",
            )
        return Admission(True)

    # The edge calls these directly: they are per-connection, not per-message.

    async def open_session(self, token: str | None) -> SessionGrant | SessionRecord | None:
        """Get or create: the session a token opens, a new one without a token, else None."""
        if token is None:
            return await self._sessions.create()
        return await self._sessions.resolve(token)

    async def close_session(self, session_id: str) -> None:
        await self._sessions.end(session_id, SessionStatus.CLOSED)

    async def link_connection(
        self, session_id: str, connection_id: str, agent_type: AgentType
    ) -> None:
        pillar = agent_type.pillar
        await self._communication.link_connection(
            session_id,
            connection_id,
            {
                "agent_type": agent_type.value,
                "pillar": pillar.value if pillar else None,
                "connected_at": time.time(),
            },
        )

    async def unlink_connection(self, session_id: str, connection_id: str) -> None:
        await self._communication.unlink_connection(session_id, connection_id)

    async def list_connections(self, session_id: str) -> dict[str, dict[str, Any]]:
        return await self._communication.connections(session_id)
