"""Bounded storage: the upload cap holds under concurrency, ids are trimmed, closing lets go."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import redis.asyncio as redis
from temporalio.client import Client

from agents.builtin import BuiltInResponder
from tests.integration.chat_client import connect
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.integration.test_websocket import PATHS, open_session
from tests.stack import RunningStack
from workflows.chat_session import session_workflow_id

pytestmark = pytest.mark.integration


async def session_keys(client: redis.Redis, session_id: str) -> dict[str, int]:
    """Every key of the session, with its time to live in seconds."""
    keys = [key async for key in client.scan_iter(match=f"*{session_id}*")]
    return {key.decode(): await client.ttl(key) for key in keys}


async def test_concurrent_uploads_cannot_pass_the_file_cap(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=60) as http:
        token = (await http.post("/api/chat/conversation/create")).json()["session_token"]
        uploads = await asyncio.gather(
            *(
                http.post(
                    "/api/uploads",
                    params={"session_token": token, "filename": f"file-{n}.txt"},
                    content=b"some text",
                )
                for n in range(30)
            )
        )
        listed = (await http.get("/api/uploads", params={"session_token": token})).json()
    statuses = sorted(response.status_code for response in uploads)
    assert statuses == [201] * 20 + [409] * 10
    assert len(listed) == 20


async def test_recorded_ids_are_trimmed_with_the_history(
    stack: RunningStack, redis_client: redis.Redis
) -> None:
    settings = settings_for(stack).model_copy(update={"history_max_messages": 4})
    async with (
        run_worker(settings, BuiltInResponder()),
        serve_edge(settings) as ws_url,
        connect(ws_url, PATHS["guide"]) as guide,
    ):
        created = await guide.recv()
        await guide.recv_type("conversation_restored")
        for n in range(5):
            await guide.turn(f"How do I get started, part {n}?", f"c-{n}")
    prefix = f"chat:{created['session_id']}:guide"
    assert await redis_client.llen(f"{prefix}:history") == 4
    # The four messages kept, and the sequence counter: nothing of the six trimmed away.
    assert await redis_client.hlen(f"{prefix}:recorded") == 5


async def test_every_key_expires_and_closing_lets_the_session_go_soon(
    stack: RunningStack, redis_client: redis.Redis, temporal_client: Client
) -> None:
    async with connect(stack.ws_url, PATHS["insights_liaison"]) as insights:
        token, _ = await open_session(insights)
        async with httpx.AsyncClient(base_url=stack.http_url) as http:
            uploaded = await http.post(
                "/api/uploads",
                params={"session_token": token, "filename": "sales.csv"},
                content=b"region,revenue\nnorth,100\nsouth,300\n",
            )
            assert uploaded.status_code == 201
            await insights.turn("Give me summary statistics for sales.csv")
            created = insights.received[0]
            keys = await session_keys(redis_client, str(created["session_id"]))
            assert any(":history" in key for key in keys) and any("upload:" in key for key in keys)
            # The chat's data key holds no text and must outlive the Temporal histories it
            # opens: it goes when the chat is deleted (docs/privacy.md), not with the session.
            data_key = f"payload-key:{session_workflow_id(str(created['session_id']))}"
            assert keys.pop(data_key) == -1
            assert all(ttl > 0 for ttl in keys.values()), keys
            closed = await http.post("/api/chat/session/close", json={"session_token": token})
            assert closed.status_code == 200, closed.text
    handle = temporal_client.get_workflow_handle(session_workflow_id(str(created["session_id"])))
    await asyncio.wait_for(handle.result(), 30)
    after = await session_keys(redis_client, str(created["session_id"]))
    stored = {
        key: ttl
        for key, ttl in after.items()
        if not key.startswith(("session:", "rate:", "payload-key:"))
    }
    assert stored and all(0 < ttl <= 600 for ttl in stored.values()), stored


async def test_restored_history_is_capped_in_bytes_and_older_pages_are_served(
    stack: RunningStack,
) -> None:
    settings = settings_for(stack).model_copy(update={"restore_max_bytes": 100_000})
    async with run_worker(settings, BuiltInResponder()), serve_edge(settings) as ws_url:
        async with connect(ws_url, PATHS["guide"]) as guide:
            token, _ = await open_session(guide)
            # 32 KB each as stored: ten of them and their replies are far past the cap.
            for n in range(10):
                await guide.turn(f"{n} " + "\N{GRINNING FACE}" * 7_990, f"c-{n}")
        async with connect(ws_url, PATHS["guide"], session_token=token) as reloaded:
            raw = await asyncio.wait_for(reloaded.socket.recv(), 15)
        restored = json.loads(raw)
        pages = []
        before = restored["messages"][0]["seq"]
        async with httpx.AsyncClient(base_url=ws_url.replace("ws://", "http://")) as http:
            while before is not None:
                page = (
                    await http.get(
                        "/api/chat/conversation/messages",
                        params={"session_token": token, "before_seq": before, "limit": 5},
                    )
                ).json()
                pages.append(page["messages"])
                before = page["next_before_seq"]
    assert restored["type"] == "conversation_restored" and restored["message_count"] == 20
    assert len(raw.encode() if isinstance(raw, str) else raw) <= 101_000
    assert 0 < len(restored["messages"]) < 20
    assert restored["messages"][-1]["role"] == "assistant"  # the newest are the ones kept
    # Paging back from the oldest restored message reaches the first, each message once.
    older = [m["seq"] for page in reversed(pages) for m in page]
    assert older + [m["seq"] for m in restored["messages"]] == list(range(1, 21))
