"""Validation at the edge, on the real stack: bad input gets a clear refusal, the socket lives on,
and nothing reaches the session's workflow."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.agent_sdk import SessionHandle
from tests.integration.chat_client import ChatClient, connect
from tests.stack import RunningStack
from workflows.chat_session import ChatSessionWorkflow, session_workflow_id

pytestmark = pytest.mark.integration

GUIDE = "/api/ws/guide"
# A last_event_id in Arabic-Indic digits: `\d` matches it, Redis cannot read it.
NON_ASCII_EVENT_ID = "١٧٠٠٠٠٠٠٠٠٠٠٠-٠"


async def _opened(client: ChatClient) -> tuple[str, str]:
    created = await client.recv_type("session_created")
    await client.recv_type("conversation_restored")
    return str(created["session_token"]), str(created["session_id"])


async def _still_open(client: ChatClient) -> None:
    await client.send({"type": "ping"})
    assert (await client.recv_type("pong"))["type"] == "pong"


async def _workflow_exists(temporal: Client, session_id: str) -> bool:
    handle: SessionHandle = temporal.get_workflow_handle_for(
        ChatSessionWorkflow.run, session_workflow_id(session_id)
    )
    try:
        await handle.describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


@pytest.mark.parametrize("text", ["hi \ud800", "hi \x00 there"], ids=["lone-surrogate", "nul"])
async def test_unstorable_text_is_an_invalid_frame_and_the_socket_stays(
    stack: RunningStack, temporal_client: Client, text: str
) -> None:
    async with connect(stack.ws_url, GUIDE) as client:
        _, session_id = await _opened(client)
        # json.dumps writes the lone surrogate as the escape "\ud800", as a browser would.
        await client.chat(text, "bad-text")
        error = await client.recv_type("error")
        assert error["code"] == "invalid_frame"
        await _still_open(client)
        response = await client.turn("and now a plain message", "good-text")
    assert response["type"] == "chat_response"
    assert await _workflow_exists(temporal_client, session_id)


async def test_deeply_nested_json_is_invalid_json_and_the_socket_stays(
    stack: RunningStack,
) -> None:
    async with connect(stack.ws_url, GUIDE) as client:
        await _opened(client)
        await client.socket.send("[" * 60_000)
        error = await client.recv_type("error")
        assert error["code"] == "invalid_json"
        await _still_open(client)


async def test_non_ascii_ids_are_refused_and_the_socket_stays(stack: RunningStack) -> None:
    async with connect(stack.ws_url, GUIDE, last_event_id=NON_ASCII_EVENT_ID) as client:
        await _opened(client)
        error = await client.recv_type("error")
        assert error["code"] == "invalid_frame" and "last_event_id" in error["message"]
        await client.send({"type": "resume", "last_event_id": NON_ASCII_EVENT_ID})
        error = await client.recv_type("error")
        assert error["code"] == "invalid_frame" and "last_event_id" in error["message"]
        await client.chat("hello", "é-1")
        error = await client.recv_type("error")
        assert error["code"] == "invalid_frame" and "client_message_id" in error["message"]
        await _still_open(client)


async def test_a_message_refused_at_the_edge_starts_no_workflow(
    stack: RunningStack, temporal_client: Client
) -> None:
    async with connect(stack.ws_url, GUIDE) as client:
        _, session_id = await _opened(client)
        await client.chat("x" * 8_001, "long")
        error = await client.recv_type("error")
        assert error["code"] == "message_too_long" and error["client_message_id"] == "long"
        await client.chat("   ", "blank")
        error = await client.recv_type("error")
        assert error["code"] == "empty_message"
        await _still_open(client)
    assert not await _workflow_exists(temporal_client, session_id)


async def test_cancel_frames_need_a_message_id_and_are_rate_limited(
    stack: RunningStack, temporal_client: Client
) -> None:
    async with connect(stack.ws_url, GUIDE) as client:
        _, session_id = await _opened(client)
        answered = await client.turn("hello", "before-cancels")
        await client.send({"type": "cancel", "message_id": "anything at all"})
        error = await client.recv_type("error")
        assert error["code"] == "invalid_frame" and "message_id" in error["message"]
        unknown = "m-" + "0" * 32
        await client.send({"type": "cancel", "message_id": unknown})
        error = await client.recv_type("error")
        assert error["code"] == "invalid_frame" and error["in_reply_to"] == unknown
        for _ in range(40):
            await client.send({"type": "cancel", "message_id": answered["message_id"]})
        await _still_open(client)
    refused = [f for f in client.received if f["type"] == "error" and f["code"] == "rate_limited"]
    assert refused, "a flood of cancel frames was never refused"
    handle = temporal_client.get_workflow_handle(session_workflow_id(session_id))
    signals = [
        event
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    # The socket's cancel burst (10 by default, and a little refill) reached the workflow.
    assert len(signals) <= 12


async def test_rest_bodies_are_capped_before_they_are_read(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=30) as http:
        declared = await http.post(
            "/api/chat/guide",
            content=json.dumps({"message": "x" * 500_000}),
            headers={"content-type": "application/json"},
        )
        assert declared.status_code == 413
        assert "larger than" in declared.json()["detail"]

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length: the cap bites while the body arrives.
            yield b'{"message": "'
            for _ in range(1_000):
                yield b"x" * 1_000
            yield b'"}'

        streamed = await http.post(
            "/api/chat/guide", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413


async def test_rest_messages_are_checked_like_socket_ones(
    stack: RunningStack, temporal_client: Client
) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=30) as http:
        created = (await http.post("/api/chat/conversation/create")).json()
        token, session_id = created["session_token"], created["session_id"]
        too_long = await http.post(
            "/api/chat/guide", json={"message": "x" * 8_001, "session_token": token}
        )
        assert too_long.status_code == 422 and "limit is 8000" in too_long.json()["detail"]
        surrogate = await http.post(
            "/api/chat/guide",
            # json.dumps escapes the lone surrogate as "\ud800".
            content=json.dumps({"message": "hi \ud800", "session_token": token}),
            headers={"content-type": "application/json"},
        )
        assert surrogate.status_code == 422 and "surrogate" in json.dumps(surrogate.json())
        bad_token = await http.post(
            "/api/chat/guide",
            content=json.dumps({"message": "hi", "session_token": "\ud800"}),
            headers={"content-type": "application/json"},
        )
        assert bad_token.status_code == 401
    assert not await _workflow_exists(temporal_client, session_id)
