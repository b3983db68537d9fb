"""The reply activity heartbeats while its model is silent, so a short heartbeat timeout only
catches a dead worker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as redis
from temporalio.testing import ActivityEnvironment

from activities import agent_replies
from activities.agent_replies import AgentReplies, GenerateReplyInput
from agents.catalog import AgentType
from agents.replies import ReplyContext
from foundations.clients import communication_foundation
from foundations.settings import Settings

pytestmark = pytest.mark.integration


class _Thinking:
    """A model that thinks before its first token."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def stream_reply(self, context: ReplyContext) -> AsyncIterator[str]:
        await asyncio.sleep(self.seconds)
        yield "done"


async def test_a_silent_model_still_heartbeats(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_replies, "HEARTBEAT_INTERVAL", timedelta(milliseconds=50))
    replies = AgentReplies(_Thinking(0.5), communication_foundation(redis_client, Settings()), 100)
    beats: list[tuple[Any, ...]] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)
    guide = AgentType.GUIDE
    reply = await env.run(
        replies.generate_reply,
        GenerateReplyInput(uuid.uuid4().hex, guide, guide, "r-m-1", "m-1", 1, "hello"),
    )
    assert reply.content == "done"
    # Ten intervals of silence, then one delta: without the background beat there is one.
    assert len(beats) >= 5
