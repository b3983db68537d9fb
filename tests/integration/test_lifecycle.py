"""Deploys and outages on a stack of this module's own: SIGTERM to the worker and the API, no
worker polling, Redis gone. The shared `stack` fixture is never disturbed."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import websockets

from devstack.services import start_redis, start_worker
from tests.integration.chat_client import ChatClient, Frame, close_code, connect
from tests.stack import RunningStack, running_stack

pytestmark = pytest.mark.integration

GUIDE = "/api/ws/guide"
# Paced so a reply streams for a few seconds: long enough to signal the worker mid-reply,
# short enough to finish inside the worker's grace period.
DELTA_DELAY_MS = "60"


@pytest.fixture(scope="module")
def own_stack() -> Iterator[RunningStack]:
    with running_stack() as started:
        started.env["BUILTIN_DELTA_DELAY_MS"] = DELTA_DELAY_MS
        started.processes.stop("worker")
        start_worker(started.processes, started.env, started.log_dir)
        yield started


def _process(stack: RunningStack, name: str) -> subprocess.Popen[bytes]:
    return next(process for entry, process in stack.processes.processes if entry == name)


async def _open(client: ChatClient) -> str:
    created = await client.recv()
    assert created["type"] == "session_created"
    await client.recv_type("conversation_restored")
    return str(created["session_token"])


async def _send_until_accepted(client: ChatClient, message: str, client_message_id: str) -> Frame:
    """What the page's outbox does: resend with the same id until the message is acknowledged
    (a worker that is still starting may not take it in time)."""
    async with asyncio.timeout(120):
        while True:
            await client.chat(message, client_message_id)
            while True:
                frame = await client.recv(wait_seconds=60)
                if frame["type"] == "message_accepted":
                    return frame
                if frame["type"] == "error":
                    assert frame["code"] == "unavailable", frame
                    break


async def test_a_sigtermed_worker_finishes_the_reply_in_flight(own_stack: RunningStack) -> None:
    async with connect(own_stack.ws_url, GUIDE) as client:
        await _open(client)
        await client.turn("hello")  # the worker is warm: the next reply starts at once
        await client.chat("Tell me about the insights pillar", "sigterm-1")
        accepted = await client.recv_type("message_accepted", wait_seconds=30)
        await client.recv_type("chat_chunk", wait_seconds=30)
        old_worker = _process(own_stack, "worker")
        old_worker.send_signal(signal.SIGTERM)
        # The deploy's new worker; the old one stops taking tasks but finishes its reply.
        start_worker(own_stack.processes, own_stack.env, own_stack.log_dir)
        async with asyncio.timeout(60):
            while True:
                frame = await client.recv(wait_seconds=60)
                if (
                    frame["type"] == "chat_response"
                    and frame["in_reply_to"] == accepted["message_id"]
                ):
                    break
        restarted = [f for f in client.received if f["type"] == "reply_restarted"]
        assert restarted == []
        assert frame["message"] == client.deltas(frame["message_id"])
        assert await asyncio.to_thread(old_worker.wait, 30) == 0
    own_stack.processes.processes = [
        entry for entry in own_stack.processes.processes if entry[1] is not old_worker
    ]


async def test_a_message_no_worker_takes_gets_unavailable_then_resends_once(
    own_stack: RunningStack,
) -> None:
    own_stack.processes.stop("worker")
    async with connect(own_stack.ws_url, GUIDE) as client:
        token = await _open(client)
        sent = time.monotonic()
        await client.chat("anyone there?", "no-worker-1")
        error = await client.recv_type("error", wait_seconds=30)
        waited = time.monotonic() - sent
    assert error["code"] == "unavailable"
    assert error["client_message_id"] == "no-worker-1"
    assert waited < 15, f"unavailable after {waited:.1f} s"
    start_worker(own_stack.processes, own_stack.env, own_stack.log_dir)
    # The page's outbox resends with the same id: the message is answered exactly once.
    async with connect(own_stack.ws_url, GUIDE, session_token=token) as client:
        before = await client.recv_type("conversation_restored")
        accepted = await _send_until_accepted(client, "anyone there?", "no-worker-1")
        assert accepted["client_message_id"] == "no-worker-1"
        answered = [m for m in before["messages"] if m.get("in_reply_to") == accepted["message_id"]]
        if not answered:
            await client.recv_type("chat_response", wait_seconds=60)
    async with connect(own_stack.ws_url, GUIDE, session_token=token) as client:
        restored = await client.recv_type("conversation_restored")
    mine = [m for m in restored["messages"] if m.get("client_message_id") == "no-worker-1"]
    replies = [m for m in restored["messages"] if m.get("in_reply_to") == accepted["message_id"]]
    assert len(mine) == 1
    assert len(replies) == 1


async def test_a_reply_a_crashed_worker_abandoned_restarts_within_seconds(
    own_stack: RunningStack,
) -> None:
    async with connect(own_stack.ws_url, GUIDE) as client:
        await _open(client)
        await client.turn("hello")
        await client.chat("Tell me about the operations pillar", "sigkill-1")
        accepted = await client.recv_type("message_accepted", wait_seconds=30)
        await client.recv_type("chat_chunk", wait_seconds=30)
        crashed = _process(own_stack, "worker")
        crashed.kill()
        killed_at = time.monotonic()
        start_worker(own_stack.processes, own_stack.env, own_stack.log_dir)
        restarted = await client.recv_type("reply_restarted", wait_seconds=60)
        waited = time.monotonic() - killed_at
        response = await client.recv_type("chat_response", wait_seconds=60)
    # The heartbeat timeout (6 s) plus a retry; it was 30 s before.
    assert waited < 25, f"the reply restarted {waited:.1f} s after the worker died"
    assert response["in_reply_to"] == accepted["message_id"]
    after = client.received[client.received.index(restarted) :]
    streamed = "".join(
        f["delta"]
        for f in after
        if f["type"] == "chat_chunk" and f["message_id"] == response["message_id"]
    )
    assert response["message"] == streamed
    own_stack.processes.processes = [
        entry for entry in own_stack.processes.processes if entry[1] is not crashed
    ]


async def test_a_sigtermed_api_closes_sockets_with_1012_and_a_reason(
    own_stack: RunningStack,
) -> None:
    async with connect(own_stack.ws_url, GUIDE) as client:
        await _open(client)
        _process(own_stack, "api").send_signal(signal.SIGTERM)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await client.recv(wait_seconds=20)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1012
    assert closed.value.rcvd.reason
    assert "restarting" in closed.value.rcvd.reason
    # It ends by itself (uvicorn re-raises the SIGTERM it handled, so the status says so).
    await asyncio.to_thread(_process(own_stack, "api").wait, 20)
    own_stack.restart_api()


async def test_redis_down_closes_sockets_with_1013_and_readyz_says_not_ready(
    own_stack: RunningStack,
) -> None:
    own_stack.processes.stop("redis")
    code, reason = await close_code(own_stack.ws_url, GUIDE)
    assert code == 1013
    assert reason
    async with httpx.AsyncClient(base_url=own_stack.http_url) as http:
        ready = await http.get("/readyz", timeout=20)
        alive = await http.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["redis"] != "ok"
    assert alive.status_code == 200
    # Back again: the edge serves without a restart.
    port = urlparse(own_stack.redis_url).port
    assert port is not None
    data = Path(tempfile.mkdtemp(prefix="chat-redis-"))
    start_redis(own_stack.processes, data, port, own_stack.log_dir)
    async with connect(own_stack.ws_url, GUIDE) as client:
        await _open(client)
