"""The live relay loses its Redis connection: sockets still get every event, in order, once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from temporalio.client import Client

from agents.catalog import AgentType
from agents.orchestrators import default_registry
from api.agent_sdk import AgentWebSocketSDK
from api.live_relay import LiveRelay
from foundations.admission import ContentPolicy, MessageAdmission, RateLimits
from foundations.clients import communication_foundation
from foundations.communication import Conversation
from foundations.server_events import ChatChunk
from foundations.sessions import SessionStore
from foundations.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def sdk(
    redis_client: redis.Redis, temporal_client: Client
) -> AsyncIterator[AgentWebSocketSDK]:
    settings = Settings()
    communication = communication_foundation(redis_client, settings)
    relay = LiveRelay(redis_client)
    await relay.start()
    yield AgentWebSocketSDK(
        temporal=temporal_client,
        sessions=SessionStore(redis_client, 3600),
        admission=MessageAdmission(redis_client, ContentPolicy(), RateLimits(10, 10)),
        communication=communication,
        relay=relay,
        orchestrators=default_registry(),
        settings=settings,
    )
    await relay.stop()


async def test_events_published_while_the_relay_reconnects_are_not_lost(
    sdk: AgentWebSocketSDK, redis_client: redis.Redis
) -> None:
    connection = await sdk.connect_guide_agent(None)
    await sdk.restore(connection.connection_id)
    communication = communication_foundation(redis_client, Settings())
    conversation = Conversation(connection.session.session_id, connection.agent_type)
    await communication.publish(conversation, _chunk("before"))
    # Drop every pub/sub connection (this relay's among them), then publish at once: the
    # relay is not subscribed yet, so these only reach the stream.
    await redis_client.client_kill_filter(_type="pubsub")
    for delta in ["while-1", "while-2"]:
        await communication.publish(conversation, _chunk(delta))
    await asyncio.sleep(1.5)
    await communication.publish(conversation, _chunk("after"))
    received: list[str] = []
    async with asyncio.timeout(10):
        while len(received) < 4:
            event = await sdk.receive_agent_message(connection.connection_id)
            received.append(json.loads(event.body)["delta"])
    assert received == ["before", "while-1", "while-2", "after"]
    await sdk.disconnect_agent(connection.connection_id)


async def test_connections_are_registered_while_they_last(
    sdk: AgentWebSocketSDK, redis_client: redis.Redis
) -> None:
    guide = await sdk.connect_guide_agent(None)
    token = guide.new_token
    assert token is not None
    insights = await sdk.connect_liaison_agent("insights", token)
    session_id = guide.session.session_id
    communication = communication_foundation(redis_client, Settings())
    linked = await communication.connections(session_id)
    assert {cid: (c["agent_type"], c["pillar"]) for cid, c in linked.items()} == {
        guide.connection_id: (AgentType.GUIDE.value, None),
        insights.connection_id: (AgentType.INSIGHTS_LIAISON.value, "insights"),
    }
    await sdk.disconnect_agent(guide.connection_id)
    assert set(await communication.connections(session_id)) == {insights.connection_id}
    await sdk.disconnect_agent(insights.connection_id)


def _chunk(delta: str) -> ChatChunk:
    return ChatChunk(agent_type=AgentType.GUIDE, message_id="m-probe", delta=delta)
