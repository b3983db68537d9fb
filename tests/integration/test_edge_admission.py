"""Admission at the edge, on the real stack: an API process of the test's own with low limits,
on the shared Temporal, Redis and worker. Each test speaks for its own client address through
X-Forwarded-For (the process trusts 127.0.0.1 as its proxy), so tests do not share counters."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import websockets
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from devstack.services import Stack, free_port, start_api
from tests.integration.chat_client import ChatClient
from tests.stack import RunningStack
from workflows.chat_session import session_workflow_id

pytestmark = pytest.mark.integration

GUIDE = "/api/ws/guide"
LIMITS = {
    "CLIENT_SESSIONS_PER_MINUTE": "2",
    "CLIENT_SOCKETS_PER_MINUTE": "4",
    "MAX_SOCKETS_PER_SESSION": "2",
    "SESSION_MESSAGES_PER_MINUTE": "2",
    "TRUSTED_PROXIES": json.dumps(["127.0.0.1"]),
}


@contextmanager
def api_process(stack: RunningStack, env: dict[str, str]) -> Iterator[int]:
    """An API process with `env` on top of the shared stack's; yields its port."""
    processes = Stack()
    port = free_port()
    try:
        start_api(processes, {**stack.env, **env}, port, stack.log_dir)
        yield port
    finally:
        processes.stop()


@pytest.fixture(scope="module")
def limited_port(stack: RunningStack) -> Iterator[int]:
    with api_process(stack, LIMITS) as port:
        yield port


def a_client() -> str:
    """A client address of the test's own."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


async def fresh_window() -> None:
    """Start in a fresh minute, so a per-minute window cannot roll over mid-test."""
    into_minute = time.time() % 60
    if into_minute > 40:
        await asyncio.sleep(60 - into_minute + 0.5)


@asynccontextmanager
async def open_socket(
    port: int, client: str, token: str | None = None, **kwargs: Any
) -> AsyncIterator[ChatClient]:
    url = f"ws://127.0.0.1:{port}{GUIDE}" + (f"?session_token={token}" if token else "")
    async with websockets.connect(
        url, additional_headers={"X-Forwarded-For": client}, max_size=2**22, **kwargs
    ) as connection:
        yield ChatClient(connection)


async def closed_with(port: int, client: str, token: str | None = None) -> tuple[int, str]:
    async with open_socket(port, client, token) as chat:
        try:
            while True:
                await chat.recv(wait_seconds=10)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("not closed")


async def acknowledged(chat: ChatClient, client_message_id: str) -> None:
    """Frames until the message's ack; its refusal fails the test, saying why."""
    async with asyncio.timeout(60):
        while True:
            frame = await chat.recv(wait_seconds=60)
            if frame.get("client_message_id") == client_message_id:
                assert frame["type"] == "message_accepted", frame
                return


def retry_after(reason: str) -> int:
    found = re.search(r"retry_after=([0-9]+)$", reason)
    assert found, f"no retry hint in {reason!r}"
    return int(found.group(1))


async def test_new_sessions_per_client_are_limited(limited_port: int) -> None:
    await fresh_window()
    client = a_client()
    for _ in range(2):
        async with open_socket(limited_port, client) as chat:
            assert (await chat.recv())["type"] == "session_created"
    code, reason = await closed_with(limited_port, client)
    assert code == 4009 and "sessions" in reason
    assert 1 <= retry_after(reason) <= 60
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{limited_port}") as http:
        refused = await http.post(
            "/api/chat/conversation/create", headers={"X-Forwarded-For": client}
        )
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Another client address is not held back by this one.
        other = await http.post(
            "/api/chat/conversation/create", headers={"X-Forwarded-For": a_client()}
        )
        assert other.status_code == 200


async def test_new_sockets_per_client_are_limited(limited_port: int) -> None:
    await fresh_window()
    client = a_client()
    async with open_socket(limited_port, client) as chat:
        token = (await chat.recv())["session_token"]
    for _ in range(3):
        async with open_socket(limited_port, client, token) as chat:
            assert (await chat.recv())["type"] == "conversation_restored"
    code, reason = await closed_with(limited_port, client, token)
    assert code == 4008 and "connections" in reason
    assert 1 <= retry_after(reason) <= 60


async def test_sockets_per_session_are_capped(limited_port: int) -> None:
    await fresh_window()
    client = a_client()
    async with open_socket(limited_port, client) as first:
        token = (await first.recv())["session_token"]
        await first.recv_type("conversation_restored")
        async with open_socket(limited_port, client, token) as second:
            await second.recv_type("conversation_restored")
            code, reason = await closed_with(limited_port, client, token)
            assert code == 4011 and "retry_after=" in reason
            # The sockets already open are unaffected.
            await second.send({"type": "ping"})
            await second.recv_type("pong")
        # A closed socket frees its slot.
        async with open_socket(limited_port, client, token) as third:
            assert (await third.recv())["type"] == "conversation_restored"


async def test_rate_limited_messages_are_refused_before_the_workflow(
    limited_port: int, temporal_client: Client
) -> None:
    await fresh_window()
    async with open_socket(limited_port, a_client()) as chat:
        created = await chat.recv()
        await chat.recv_type("conversation_restored")
        await chat.turn("one", "rate-1")
        await chat.turn("two", "rate-2")
        await chat.chat("three", "rate-3")
        refused = await chat.recv_type("error")
    assert refused["code"] == "rate_limited" and refused["client_message_id"] == "rate-3"
    assert 1 <= refused["retry_after"] <= 60
    handle = temporal_client.get_workflow_handle(session_workflow_id(created["session_id"]))
    updates = [
        event
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert len(updates) == 2, "a refused message reached the workflow's history"


@pytest.mark.timeout(300)  # some 8 MB through the real stack, on a shared machine
async def test_a_socket_that_falls_behind_is_closed_and_resumes_by_event_id(
    stack: RunningStack,
) -> None:
    with api_process(stack, {"SOCKET_QUEUE_EVENTS": "50"}) as port:
        url = f"ws://127.0.0.1:{port}{GUIDE}"
        async with websockets.connect(url) as connection:
            writer = ChatClient(connection)
            token = (await writer.recv())["session_token"]
            await writer.recv_type("conversation_restored")
            # A reader that does not read: a small receive buffer, and its client library
            # stops reading the socket after one queued message.
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before the handshake
            raw.connect(("127.0.0.1", port))
            raw.setblocking(False)
            async with websockets.connect(
                f"{url}?session_token={token}", sock=raw, max_queue=1, max_size=2**22
            ) as slow_connection:
                slow = ChatClient(slow_connection)
                # Well past what the socket buffers hold (up to 4 MB with Linux's defaults; about
                # 3 MB measured) plus the queue: each message_accepted carries the message,
                # about 32 KB of UTF-8 here.
                big = "\N{GRINNING FACE}" * 7_900
                turns = 250
                for n in range(turns):
                    frame = {"type": "chat_message", "message": big, "client_message_id": f"f{n}"}
                    await writer.socket.send(json.dumps(frame, ensure_ascii=False))
                    await acknowledged(writer, f"f{n}")
                final: dict[str, Any] = {}
                async with asyncio.timeout(300):
                    while sum(f["type"] == "chat_response" for f in writer.received) < turns:
                        final = await writer.recv()
                assert final["type"] == "chat_response"
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    while True:
                        await slow.recv(wait_seconds=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4012
            last_seen = [f["event_id"] for f in slow.received if f.get("event_id")][-1]
            assert last_seen != final["event_id"]
            # Reconnected with its last event id, the reader gets everything it missed.
            async with websockets.connect(
                f"{url}?session_token={token}&last_event_id={last_seen}", max_size=2**22
            ) as again:
                resumed = ChatClient(again)
                await resumed.recv_type("conversation_restored")
                while True:
                    frame = await resumed.recv()
                    assert frame["type"] != "gap"
                    if frame.get("event_id") == final["event_id"]:
                        break
