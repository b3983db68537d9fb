"""Post Office records and the reply activity, on a real Redis."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.agent_replies import AgentReplies, GenerateReplyInput
from activities.post_office import PostOffice, RecordReplyInput, RecordUserMessageInput
from agents.builtin import BuiltInResponder
from agents.catalog import AgentType
from agents.replies import ReplyContext, ReplyRejected, ReplyUnavailable
from foundations.communication import Conversation
from foundations.settings import Settings
from workers.composition import communication_foundation

pytestmark = pytest.mark.integration

GUIDE = AgentType.GUIDE


def user_message(session_id: str, message_id: str, owner: str = "run-1") -> RecordUserMessageInput:
    return RecordUserMessageInput(
        session_id, GUIDE, message_id, "hello", "2026-01-01T00:00:00+00:00", "c-1", owner
    )


async def events(client: redis.Redis, session_id: str) -> list[dict[str, Any]]:
    replay = await communication_foundation(client, Settings()).events_after(
        Conversation(session_id, GUIDE), "0-0"
    )
    return [json.loads(event.body) for event in replay.events]


async def test_a_message_is_recorded_once_and_a_retry_knows_it_as_its_own(
    redis_client: redis.Redis,
) -> None:
    post_office = PostOffice(communication_foundation(redis_client, Settings()))
    env = ActivityEnvironment()
    session_id = uuid.uuid4().hex
    first = await env.run(post_office.record_user_message, user_message(session_id, "m-1"))
    retried = await env.run(post_office.record_user_message, user_message(session_id, "m-1"))
    resent = await env.run(
        post_office.record_user_message, user_message(session_id, "m-1", "run-2")
    )
    second = await env.run(post_office.record_user_message, user_message(session_id, "m-2"))
    assert (first.seq, first.first_time) == (1, True)
    assert (retried.event_id, retried.seq, retried.first_time) == (first.event_id, 1, True)
    assert (resent.event_id, resent.first_time) == (first.event_id, False)
    assert second.seq == 2
    assert [e["type"] for e in await events(redis_client, session_id)] == ["message_accepted"] * 2
    history = await communication_foundation(redis_client, Settings()).history(
        Conversation(session_id, GUIDE), 10
    )
    assert [(m["message_id"], m["seq"]) for m in history] == [("m-1", 1), ("m-2", 2)]


async def test_a_reply_is_recorded_once(redis_client: redis.Redis) -> None:
    post_office = PostOffice(communication_foundation(redis_client, Settings()))
    env = ActivityEnvironment()
    session_id = uuid.uuid4().hex
    reply = RecordReplyInput(
        session_id, GUIDE, "r-1", "m-1", "hi there", "2026-01-01T00:00:00+00:00", GUIDE
    )
    await env.run(post_office.record_reply, reply)
    await env.run(post_office.record_reply, reply)
    responses = [e for e in await events(redis_client, session_id) if e["type"] == "chat_response"]
    assert len(responses) == 1 and responses[0]["message"] == "hi there"


class _Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def stream_reply(self, context: ReplyContext) -> AsyncIterator[str]:
        yield "partial "
        raise self.error


def reply_input(session_id: str) -> GenerateReplyInput:
    return GenerateReplyInput(session_id, GUIDE, GUIDE, "r-m-1", "m-1", 1, "What is this platform?")


async def test_a_retried_reply_tells_clients_to_drop_the_partial(redis_client: redis.Redis) -> None:
    replies = AgentReplies(
        BuiltInResponder(), communication_foundation(redis_client, Settings()), 100
    )
    session_id = uuid.uuid4().hex
    first_attempt = ActivityEnvironment()
    result = await first_attempt.run(replies.generate_reply, reply_input(session_id))
    second_attempt = ActivityEnvironment()
    second_attempt.info = dataclasses.replace(second_attempt.info, attempt=2)
    again = await second_attempt.run(replies.generate_reply, reply_input(session_id))
    types = [e["type"] for e in await events(redis_client, session_id)]
    chunks_per_attempt = types.count("chat_chunk") // 2
    assert again.content == result.content
    assert (
        types
        == ["chat_chunk"] * chunks_per_attempt
        + ["reply_restarted"]
        + ["chat_chunk"] * chunks_per_attempt
    )
    assert (
        "".join(e["delta"] for e in (await events(redis_client, session_id))[:chunks_per_attempt])
        == result.content
    )


async def test_provider_errors_map_to_retryable_or_not(redis_client: redis.Redis) -> None:
    communication = communication_foundation(redis_client, Settings())
    env = ActivityEnvironment()
    rejected = AgentReplies(_Failing(ReplyRejected("bad request")), communication, 100)
    with pytest.raises(ApplicationError) as refused:
        await env.run(rejected.generate_reply, reply_input(uuid.uuid4().hex))
    assert refused.value.non_retryable and refused.value.type == "ReplyRejected"
    unavailable = AgentReplies(_Failing(ReplyUnavailable("busy", 7)), communication, 100)
    with pytest.raises(ApplicationError) as busy:
        await env.run(unavailable.generate_reply, reply_input(uuid.uuid4().hex))
    assert not busy.value.non_retryable
    assert (
        busy.value.next_retry_delay is not None and busy.value.next_retry_delay.total_seconds() == 7
    )
