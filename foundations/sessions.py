"""Chat sessions and the tokens that open them.

A token is 256 random bits minted by the server. Only its SHA-256 is stored, so a copy of Redis
does not hand out live tokens. A token is valid while its key lives (it expires) and its
session is active (a session can be revoked or closed).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as redis

from foundations.communication import text


class SessionStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    user_id: str
    expires_at: float
    status: SessionStatus

    def usable(self, now: float) -> bool:
        return self.status is SessionStatus.ACTIVE and now < self.expires_at


@dataclass(frozen=True)
class SessionGrant:
    """A newly created session and the token that opens it (shown to the client once)."""

    record: SessionRecord
    token: str


def unowned_user_id(session_id: str) -> str:
    """The user id of a session created without an identity: it belongs to its token alone."""
    return f"user-{session_id}"


def _token_key(token: str) -> str:
    return "token:" + hashlib.sha256(token.encode()).hexdigest()


def _session_key(session_id: str) -> str:
    return f"session:{session_id}"


class SessionStore:
    """Creates, resolves and ends sessions in Redis."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._redis = client
        self._ttl_seconds = ttl_seconds

    async def create(self, user_id: str | None = None) -> SessionGrant:
        session_id = secrets.token_hex(12)
        token = secrets.token_urlsafe(32)
        record = SessionRecord(
            session_id=session_id,
            user_id=user_id or unowned_user_id(session_id),
            expires_at=time.time() + self._ttl_seconds,
            status=SessionStatus.ACTIVE,
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                _session_key(session_id),
                mapping={
                    "user_id": record.user_id,
                    "expires_at": record.expires_at,
                    "status": record.status.value,
                },
            )
            pipe.expire(_session_key(session_id), self._ttl_seconds)
            pipe.set(_token_key(token), session_id, ex=self._ttl_seconds)
            await pipe.execute()
        return SessionGrant(record, token)

    async def add_token(self, record: SessionRecord) -> str:
        """Another token for an existing session (a second device of its owner), living as
        long as the session does."""
        token = secrets.token_urlsafe(32)
        ttl = max(1, int(record.expires_at - time.time()))
        await self._redis.set(_token_key(token), record.session_id, ex=ttl)
        return token

    async def get(self, session_id: str) -> SessionRecord | None:
        raw = await self._redis.hgetall(_session_key(session_id))
        if not raw:
            return None
        fields = {text(key): text(value) for key, value in raw.items()}
        return SessionRecord(
            session_id=session_id,
            user_id=fields["user_id"],
            expires_at=float(fields["expires_at"]),
            status=SessionStatus(fields["status"]),
        )

    async def resolve(self, token: str) -> SessionRecord | None:
        """The usable session a token opens, or None for a forged, expired or ended one."""
        # Minted tokens are URL-safe ASCII; anything else (a lone surrogate, say) is no token.
        if not token or len(token) > 128 or not token.isascii():
            return None
        session_id = await self._redis.get(_token_key(token))
        if session_id is None:
            return None
        record = await self.get(text(session_id))
        if record is None or not record.usable(time.time()):
            return None
        return record

    async def end(self, session_id: str, status: SessionStatus) -> None:
        await self._redis.hset(_session_key(session_id), "status", status.value)
