"""The one-step intake and the reply that records itself, on a real Redis."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import pytest
import redis.asyncio as redis
from temporalio.testing import ActivityEnvironment

from activities.agent_replies import AgentReplies, GenerateReplyInput
from activities.conductor import Conductor
from activities.intake import AcceptMessageInput, Intake
from activities.post_office import PostOffice, RecordUserMessageInput
from activities.traffic_cop import AdmitInput, TrafficCop
from agents.builtin import BuiltInResponder
from agents.catalog import AgentType
from agents.orchestrators import default_registry
from foundations.admission import ContentPolicy, MessageAdmission, RateLimits
from foundations.clients import communication_foundation
from foundations.communication import Conversation
from foundations.sessions import SessionGrant, SessionStore
from foundations.settings import Settings

pytestmark = pytest.mark.integration

GUIDE = AgentType.GUIDE
HANDED_OVER = "Which file formats can I upload, and is CSV supported?"


async def events(client: redis.Redis, session_id: str) -> list[dict[str, Any]]:
    replay = await communication_foundation(client, Settings()).events_after(
        Conversation(session_id, GUIDE), "0-0"
    )
    return [json.loads(event.body) for event in replay.events]


def intake(client: redis.Redis) -> Intake:
    communication = communication_foundation(client, Settings())
    cop = TrafficCop(
        SessionStore(client, ttl_seconds=3600),
        MessageAdmission(client, ContentPolicy(("forbidden phrase",)), RateLimits(100, 100)),
    )
    return Intake(cop, PostOffice(communication), Conductor(default_registry(), communication, 10))


async def message(
    client: redis.Redis, session_id: str, user_id: str, text: str, after: list[str] | None = None
) -> AcceptMessageInput:
    message_id = f"m-{uuid.uuid4().hex}"
    return AcceptMessageInput(
        AdmitInput(session_id, user_id, GUIDE, text),
        RecordUserMessageInput(session_id, GUIDE, message_id, text, "2026-01-01T00:00:00+00:00"),
        route=True,
        after=after or [],
    )


async def new_session(client: redis.Redis) -> tuple[str, str]:
    grant = await SessionStore(client, ttl_seconds=3600).create()
    assert isinstance(grant, SessionGrant)
    return grant.record.session_id, grant.record.user_id


async def test_a_message_is_admitted_recorded_and_handed_over_in_one_step(
    redis_client: redis.Redis,
) -> None:
    session_id, user_id = await new_session(redis_client)
    sent = await message(redis_client, session_id, user_id, HANDED_OVER)
    accepted = await ActivityEnvironment().run(intake(redis_client).accept_message, sent)
    assert accepted.admission.admitted and accepted.recorded is not None
    assert accepted.recorded.seq == 1
    assert accepted.decision is not None and accepted.decision.author is not GUIDE
    published = await events(redis_client, session_id)
    assert [e["type"] for e in published] == ["message_accepted", "handoff"]
    assert published[1]["to"] == accepted.decision.author.value


async def test_a_message_behind_an_unanswered_one_is_left_to_route_later(
    redis_client: redis.Redis,
) -> None:
    session_id, user_id = await new_session(redis_client)
    env = ActivityEnvironment()
    steps = intake(redis_client)
    first = await message(redis_client, session_id, user_id, "Hello there!")
    await env.run(steps.accept_message, first)
    waiting = await message(
        redis_client, session_id, user_id, HANDED_OVER, after=[first.record.message_id]
    )
    accepted = await env.run(steps.accept_message, waiting)
    assert accepted.recorded is not None and accepted.decision is None
    assert [e["type"] for e in await events(redis_client, session_id)] == ["message_accepted"] * 2


async def test_a_refused_message_is_not_recorded(redis_client: redis.Redis) -> None:
    session_id, user_id = await new_session(redis_client)
    refused = await message(redis_client, session_id, user_id, "a forbidden phrase here")
    accepted = await ActivityEnvironment().run(intake(redis_client).accept_message, refused)
    assert not accepted.admission.admitted and accepted.admission.code == "content_policy"
    assert accepted.recorded is None and await events(redis_client, session_id) == []


async def test_a_reply_records_itself_once_even_when_retried(redis_client: redis.Redis) -> None:
    communication = communication_foundation(redis_client, Settings())
    replies = AgentReplies(
        BuiltInResponder(), communication, 100, post_office=PostOffice(communication)
    )
    session_id = uuid.uuid4().hex
    asked = GenerateReplyInput(
        session_id, GUIDE, GUIDE, "r-m-1", "m-1", 1, "What is this platform?", record=True
    )
    reply = await ActivityEnvironment().run(replies.generate_reply, asked)
    assert reply.recorded and reply.content
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2)
    again = await retry.run(replies.generate_reply, asked)
    assert again.recorded
    published = await events(redis_client, session_id)
    # Only the first attempt streamed and recorded; the retry found the reply recorded.
    assert [e["type"] for e in published][-1] == "chat_response"
    assert [e["type"] for e in published].count("chat_response") == 1
    assert "reply_restarted" not in [e["type"] for e in published]
    assert published[-1]["message"] == reply.content
    assert "".join(e["delta"] for e in published if e["type"] == "chat_chunk") == reply.content
    history = await communication.history(Conversation(session_id, GUIDE), 10)
    assert [(m["message_id"], m["role"]) for m in history] == [("r-m-1", "assistant")]
