"""Traffic Cop admission and session tokens against a real Redis."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as redis
from temporalio.testing import ActivityEnvironment

from activities.traffic_cop import AdmitInput, TrafficCop
from agents.catalog import AgentType
from foundations.admission import ContentPolicy, MessageAdmission, RateLimits
from foundations.sessions import SessionRecord, SessionStatus, SessionStore

pytestmark = pytest.mark.integration


def traffic_cop(client: redis.Redis, per_session: int = 3, per_user: int = 100) -> TrafficCop:
    return TrafficCop(
        SessionStore(client, ttl_seconds=3600),
        MessageAdmission(
            client, ContentPolicy(("forbidden phrase",)), RateLimits(per_session, per_user)
        ),
    )


async def new_session(client: redis.Redis) -> SessionRecord:
    return (await SessionStore(client, ttl_seconds=3600).create()).record


async def test_messages_over_the_session_limit_are_refused(redis_client: redis.Redis) -> None:
    cop = traffic_cop(redis_client, per_session=3)
    session = await new_session(redis_client)
    env = ActivityEnvironment()
    message = AdmitInput(session.session_id, session.user_id, AgentType.GUIDE, "hello")
    results = [await env.run(cop.admit_message, message) for _ in range(4)]
    assert [r.admitted for r in results] == [True, True, True, False]
    assert results[3].code == "rate_limited" and "3 messages a minute" in results[3].reason


async def test_the_user_limit_spans_sessions(redis_client: redis.Redis) -> None:
    cop = traffic_cop(redis_client, per_session=100, per_user=2)
    first, second = await new_session(redis_client), await new_session(redis_client)
    user = f"user-{time.time_ns()}"
    env = ActivityEnvironment()
    admitted = [
        (
            await env.run(cop.admit_message, AdmitInput(s.session_id, user, AgentType.GUIDE, "hi"))
        ).admitted
        for s in (first, second, second)
    ]
    assert admitted == [True, True, False]


async def test_blocked_terms_and_ended_sessions_are_refused(redis_client: redis.Redis) -> None:
    cop = traffic_cop(redis_client)
    session = await new_session(redis_client)
    env = ActivityEnvironment()
    blocked = await env.run(
        cop.admit_message,
        AdmitInput(session.session_id, session.user_id, AgentType.GUIDE, "a Forbidden Phrase here"),
    )
    assert (blocked.admitted, blocked.code) == (False, "content_policy")
    await SessionStore(redis_client, 3600).end(session.session_id, SessionStatus.CLOSED)
    ended = await env.run(
        cop.admit_message, AdmitInput(session.session_id, session.user_id, AgentType.GUIDE, "hi")
    )
    assert (ended.admitted, ended.code) == (False, "session_invalid")


async def test_tokens_open_their_session_until_it_ends(redis_client: redis.Redis) -> None:
    store = SessionStore(redis_client, ttl_seconds=3600)
    grant = await store.create()
    assert len(grant.token) >= 40
    assert await store.resolve(grant.token) == grant.record
    assert await store.resolve(grant.token[:-1] + ("A" if grant.token[-1] != "A" else "B")) is None
    assert await store.resolve("") is None
    # Only a hash of the token is stored.
    assert not [key async for key in redis_client.scan_iter(match=f"*{grant.token}*")]
    await store.end(grant.record.session_id, SessionStatus.REVOKED)
    assert await store.resolve(grant.token) is None


async def test_tokens_expire(redis_client: redis.Redis) -> None:
    store = SessionStore(redis_client, ttl_seconds=1)
    grant = await store.create()
    assert await store.resolve(grant.token) is not None
    await redis_client.hset(f"session:{grant.record.session_id}", "expires_at", time.time() - 1)
    assert await store.resolve(grant.token) is None
