"""Traffic Cop admission and session tokens against a real Redis."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as redis
from temporalio.testing import ActivityEnvironment

from activities.traffic_cop import AdmitInput, ContentPolicy, RateLimits, TrafficCop
from agents.catalog import AgentType
from foundations.sessions import SessionGrant, SessionRecord, SessionStatus, SessionStore
from foundations.settings import Settings
from workers.composition import communication_foundation

pytestmark = pytest.mark.integration


def traffic_cop(client: redis.Redis, per_session: int = 3, per_user: int = 100) -> TrafficCop:
    return TrafficCop(
        sessions=SessionStore(client, ttl_seconds=3600),
        cache=client,
        policy=ContentPolicy(("forbidden phrase",)),
        limits=RateLimits(per_session, per_user),
        communication=communication_foundation(client, Settings()),
    )


async def new_session(cop: TrafficCop) -> SessionRecord:
    grant = await cop.open_session(None)
    assert isinstance(grant, SessionGrant)
    return grant.record


async def test_messages_over_the_session_limit_are_refused(redis_client: redis.Redis) -> None:
    cop = traffic_cop(redis_client, per_session=3)
    session = await new_session(cop)
    env = ActivityEnvironment()
    message = AdmitInput(session.session_id, session.user_id, AgentType.GUIDE, "hello")
    results = [await env.run(cop.admit_message, message) for _ in range(4)]
    assert [r.admitted for r in results] == [True, True, True, False]
    assert results[3].code == "rate_limited" and "3 messages a minute" in results[3].reason


async def test_the_user_limit_spans_sessions(redis_client: redis.Redis) -> None:
    cop = traffic_cop(redis_client, per_session=100, per_user=2)
    first, second = await new_session(cop), await new_session(cop)
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
    session = await new_session(cop)
    env = ActivityEnvironment()
    blocked = await env.run(
        cop.admit_message,
        AdmitInput(session.session_id, session.user_id, AgentType.GUIDE, "a Forbidden Phrase here"),
    )
    assert (blocked.admitted, blocked.code) == (False, "content_policy")
    await cop.close_session(session.session_id)
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


async def test_connections_are_linked_and_unlinked(redis_client: redis.Redis) -> None:
    cop = traffic_cop(redis_client)
    session = await new_session(cop)
    await cop.link_connection(session.session_id, "c1", AgentType.GUIDE)
    await cop.link_connection(session.session_id, "c2", AgentType.INSIGHTS_LIAISON)
    linked = await cop.list_connections(session.session_id)
    assert {cid: (c["agent_type"], c["pillar"]) for cid, c in linked.items()} == {
        "c1": ("guide", None),
        "c2": ("insights_liaison", "insights"),
    }
    await cop.unlink_connection(session.session_id, "c1")
    assert set(await cop.list_connections(session.session_id)) == {"c2"}
