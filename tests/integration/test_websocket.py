"""The WebSocket edge against the real stack: Temporal dev server, Redis, worker, uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import httpx
import pytest
import redis.asyncio as redis
import websockets
from temporalio.client import Client

from api.agent_sdk import SessionHandle
from tests.integration.chat_client import ChatClient, close_code, connect
from tests.stack import RunningStack
from workflows.chat_session import ChatSessionWorkflow, session_workflow_id

pytestmark = pytest.mark.integration

PATHS = {
    "guide": "/api/ws/guide",
    "content_liaison": "/api/ws/liaison/content",
    "insights_liaison": "/api/ws/liaison/insights",
    "operations_liaison": "/api/ws/liaison/operations",
    "business_outcomes_liaison": "/api/ws/liaison/business_outcomes",
}


async def open_session(client: ChatClient) -> tuple[str, dict[str, object]]:
    created = await client.recv()
    assert created["type"] == "session_created"
    restored = await client.recv()
    assert restored["type"] == "conversation_restored"
    return str(created["session_token"]), restored


@pytest.mark.parametrize("agent_type", list(PATHS))
async def test_a_turn_streams_chunks_then_the_whole_reply(
    stack: RunningStack, agent_type: str
) -> None:
    async with connect(stack.ws_url, PATHS[agent_type]) as client:
        _, restored = await open_session(client)
        assert restored["messages"] == [] and restored["message_count"] == 0
        response = await client.turn("How do I get started?", "first")
    accepted = next(f for f in client.received if f["type"] == "message_accepted")
    chunks = [f for f in client.received if f["type"] == "chat_chunk"]
    assert accepted["message"] == "How do I get started?" and accepted["seq"] == 1
    assert len(chunks) >= 2
    assert response["message"] == client.deltas(response["message_id"])
    assert response["agent_type"] == agent_type
    assert response["pillar"] == (
        None if agent_type == "guide" else agent_type.removesuffix("_liaison")
    )
    ids = list(client.event_ids())
    assert len(ids) == len(set(ids)), "an event arrived twice"


async def test_reconnect_mid_stream_resumes_without_loss_or_duplicates(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as first:
        token, _ = await open_session(first)
        await first.chat("Tell me about the platform", "resume-1")
        await first.recv_type("chat_chunk")
        last_event_id = first.received[-1]["event_id"]
    # Gone mid-reply: the rest of the reply is streamed while nobody listens.
    async with connect(
        stack.ws_url, PATHS["guide"], session_token=token, last_event_id=last_event_id
    ) as second:
        restored = await second.recv()
        assert restored["type"] == "conversation_restored"
        response = await second.recv_type("chat_response")
    message_id = response["message_id"]
    seen = first.deltas(message_id) + second.deltas(message_id)
    assert seen == response["message"]
    replayed = [f["event_id"] for f in second.received[1:]]
    assert last_event_id not in replayed
    assert len(replayed) == len(set(replayed))


async def test_a_page_loaded_mid_reply_gets_the_whole_reply(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as first:
        token, _ = await open_session(first)
        await first.chat("What can you do?")
        await first.recv_type("message_accepted")
        async with connect(stack.ws_url, PATHS["guide"], session_token=token) as second:
            await second.recv()  # conversation_restored
            response = await second.recv_type("chat_response")
            # Either the reply was recorded before the restore or its chunks were replayed.
            restored_text = [
                m["content"] for m in second.received[0]["messages"] if m["role"] == "assistant"
            ]
            assert (
                response["message"] in restored_text
                or second.deltas(response["message_id"]) == response["message"]
            )


async def test_every_socket_of_a_conversation_receives_its_events(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["content_liaison"]) as tab_one:
        token, _ = await open_session(tab_one)
        async with connect(stack.ws_url, PATHS["content_liaison"], session_token=token) as tab_two:
            await tab_two.recv()  # conversation_restored
            response = await tab_one.turn("hello from tab one")
            mirrored = await tab_two.recv_type("chat_response")
            accepted = next(f for f in tab_two.received if f["type"] == "message_accepted")
    assert accepted["message"] == "hello from tab one"
    assert mirrored["message"] == response["message"]
    assert tab_two.deltas(response["message_id"]) == response["message"]


async def test_history_is_restored_after_switching_pillars(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["content_liaison"]) as content:
        token, _ = await open_session(content)
        content_reply = await content.turn("Which file formats can I upload?")
    async with connect(stack.ws_url, PATHS["insights_liaison"], session_token=token) as insights:
        restored = await insights.recv()
        assert restored["messages"] == []
        await insights.turn("Show me anomalies")
    async with connect(stack.ws_url, PATHS["content_liaison"], session_token=token) as back:
        restored = await back.recv()
    assert [(m["role"], m["content"]) for m in restored["messages"]] == [
        ("user", "Which file formats can I upload?"),
        ("assistant", content_reply["message"]),
    ]
    assert restored["message_count"] == 2
    assert restored["latest_event_id"] == restored["messages"][-1]["event_id"]


async def test_a_resent_message_is_accepted_once_and_answered_once(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as client:
        await open_session(client)
        first = await client.turn("only once please", "same-id")
        await client.chat("only once please", "same-id")
        duplicate = await client.recv_type("message_accepted")
        await client.send({"type": "ping"})
        await client.recv_type("pong")
    assert duplicate["duplicate"] is True
    assert duplicate["message_id"] == first["in_reply_to"]
    assert sum(1 for f in client.received if f["type"] == "chat_response") == 1


async def test_a_trimmed_stream_gives_a_gap_then_the_history(
    stack: RunningStack, redis_client: redis.Redis
) -> None:
    async with connect(stack.ws_url, PATHS["operations_liaison"]) as client:
        token, _ = await open_session(client)
        response = await client.turn("Write an SOP for onboarding")
        old_event_id = client.received[2]["event_id"]
        session_id = response["session_id"]
    await redis_client.xtrim(
        f"chat:{session_id}:operations_liaison:events", maxlen=0, approximate=False
    )
    async with connect(
        stack.ws_url, PATHS["operations_liaison"], session_token=token, last_event_id=old_event_id
    ) as again:
        frames = [await again.recv(), await again.recv(), await again.recv()]
    assert [f["type"] for f in frames] == ["conversation_restored", "gap", "conversation_restored"]
    assert frames[2]["messages"][-1]["content"] == response["message"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "chat_message"}', "invalid_frame"),
        ('{"type": "chat_message", "message": 42}', "invalid_frame"),
        ('{"type": "chat_message", "message": "hi", "extra": 1}', "invalid_frame"),
        ('{"type": "resume", "last_event_id": "yesterday"}', "invalid_frame"),
        ('{"type": "chat_message", "message": "   "}', "empty_message"),
        (json.dumps({"type": "chat_message", "message": "x" * 8001}), "message_too_long"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(
    stack: RunningStack, frame: str, code: str
) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as client:
        await open_session(client)
        await client.socket.send(frame)
        error = await client.recv_type("error")
        await client.send({"type": "ping"})
        await client.recv_type("pong")
    assert error["code"] == code
    assert error["message"]


async def test_forged_and_expired_tokens_are_refused(
    stack: RunningStack, redis_client: redis.Redis
) -> None:
    assert (await close_code(stack.ws_url, PATHS["guide"], session_token="forged"))[0] == 4001
    async with connect(stack.ws_url, PATHS["guide"]) as client:
        token, _ = await open_session(client)
        response = await client.turn("hello")
    await redis_client.hset(f"session:{response['session_id']}", "expires_at", time.time() - 1)
    assert (await close_code(stack.ws_url, PATHS["guide"], session_token=token))[0] == 4001


async def test_unknown_pillar_and_foreign_origin_are_refused(stack: RunningStack) -> None:
    code, reason = await close_code(stack.ws_url, "/api/ws/liaison/astrology")
    assert code == 4004 and reason and "astrology" in reason
    code, _ = await close_code(stack.ws_url, PATHS["guide"], origin="https://evil.example")
    assert code == 4003
    async with connect(stack.ws_url, PATHS["guide"], origin=stack.http_url) as client:
        await open_session(client)


async def test_a_frame_over_the_size_limit_closes_with_1009(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as client:
        await open_session(client)
        await client.socket.send(json.dumps({"type": "chat_message", "message": "x" * 70_000}))
        await client.socket.wait_closed()
    assert client.socket.close_code == 1009


async def test_persistent_flooding_closes_with_1008(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as client:
        await open_session(client)

        async def read_until_closed() -> None:
            # Reading keeps the client's receive buffer from filling, so it sees the close.
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await client.recv()

        reader = asyncio.create_task(read_until_closed())
        with contextlib.suppress(websockets.ConnectionClosed):
            for _ in range(2000):
                await client.send({"type": "ping"})
        await asyncio.wait_for(reader, 10)
    errors = [f for f in client.received if f["type"] == "error"]
    assert client.socket.close_code == 1008
    assert errors and {e["code"] for e in errors} == {"rate_limited"}


async def test_the_session_shows_in_temporal_with_its_search_attributes(
    stack: RunningStack, temporal_client: Client
) -> None:
    async with connect(stack.ws_url, PATHS["insights_liaison"]) as client:
        await open_session(client)
        response = await client.turn("chart my sales")
    session_id = response["session_id"]
    handle: SessionHandle = temporal_client.get_workflow_handle_for(
        ChatSessionWorkflow.run, session_workflow_id(session_id)
    )
    # The reply reaches the socket as its activity records it; the workflow counts the turn
    # in its next task, a moment later.
    async with asyncio.timeout(20):
        while True:
            status = await handle.query(ChatSessionWorkflow.get_status)
            if any(c.turns_completed for c in status.conversations):
                break
            await asyncio.sleep(0.1)
    assert [(c.conversation.value, c.turns_completed) for c in status.conversations] == [
        ("insights_liaison", 1)
    ]
    async with asyncio.timeout(20):
        while True:
            found = [
                w async for w in temporal_client.list_workflows(f'ChatSessionId="{session_id}"')
            ]
            if found:
                break
            await asyncio.sleep(0.2)
    assert found[0].id == session_workflow_id(session_id)


async def test_rest_fallback_gives_the_same_reply_as_the_socket(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["content_liaison"]) as client:
        await open_session(client)
        over_socket = await client.turn("How do I parse a CSV file?")
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=30) as http:
        over_rest = (
            await http.post(
                "/api/chat/liaison",
                json={"pillar": "content", "message": "How do I parse a CSV file?"},
            )
        ).json()
        history = (
            await http.get(
                "/api/chat/conversation/history",
                params={
                    "session_token": over_rest["session_token"],
                    "agent_type": "content_liaison",
                },
            )
        ).json()
        unknown = await http.post("/api/chat/liaison", json={"pillar": "nope", "message": "hi"})
        forged = await http.post(
            "/api/chat/guide", json={"session_token": "forged", "message": "hi"}
        )
    assert over_rest["message"] == over_socket["message"]
    assert over_rest["agent_type"] == "content_liaison"
    assert [m["content"] for m in history["messages"]] == [
        "How do I parse a CSV file?",
        over_rest["message"],
    ]
    assert unknown.status_code == 422 and forged.status_code == 401


async def test_a_rest_resend_gets_the_recorded_reply_at_once(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=10) as http:
        first = (
            await http.post(
                "/api/chat/guide", json={"message": "hello", "client_message_id": "r-1"}
            )
        ).json()
        again = await http.post(
            "/api/chat/guide",
            json={
                "message": "hello",
                "client_message_id": "r-1",
                "session_token": first["session_token"],
            },
        )
    assert again.status_code == 200
    assert (again.json()["reply_id"], again.json()["message"]) == (
        first["reply_id"],
        first["message"],
    )


async def test_a_closed_session_refuses_its_token(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=30) as http:
        created = (await http.post("/api/chat/conversation/create")).json()
        token = created["session_token"]
        reply = await http.post("/api/chat/guide", json={"session_token": token, "message": "hi"})
        assert reply.status_code == 200
        closed = await http.post("/api/chat/session/close", json={"session_token": token})
        after = await http.post("/api/chat/guide", json={"session_token": token, "message": "hi"})
    assert closed.json()["status"] == "closed"
    assert after.status_code == 401
    assert (await close_code(stack.ws_url, PATHS["guide"], session_token=token))[0] == 4001


async def test_health_and_readiness(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "redis": "ok", "temporal": "ok"}


async def test_session_tokens_never_reach_the_api_log(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as first:
        token, _ = await open_session(first)
    async with connect(stack.ws_url, PATHS["guide"], session_token=token) as again:
        await again.recv()
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        await http.get("/api/chat/conversation/history", params={"session_token": token})
    log = (stack.log_dir / "api.log").read_text()
    assert "session_token=<redacted>" in log
    assert token not in log
