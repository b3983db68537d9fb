"""The OpenAI-compatible provider against a real HTTP server on 127.0.0.1.

The server is a small asyncio HTTP/1.1 server that writes exactly what Chat Completions
servers send: `text/event-stream` in chunked transfer encoding, one `data: {...}` event per
delta, `data: [DONE]` at the end. Each test scripts its responses, including a connection cut
in the middle of a stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agents.catalog import AgentType
from agents.openai_compatible import OpenAICompatibleProvider
from agents.replies import (
    CapabilityOutcome,
    ReplyContext,
    ReplyRejected,
    ReplyUnavailable,
    WindowMessage,
)
from tests.sse_server import ChatServer, sse, status


def context(message: str = "How do I upload a file?", **kwargs: Any) -> ReplyContext:
    return ReplyContext("session-1", AgentType.CONTENT_LIAISON, message, **kwargs)


def provider(server: ChatServer, api_key: str = "sk-test") -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(server.base_url, api_key, "test-model")


async def collect(stream: AsyncIterator[str], into: list[str] | None = None) -> list[str]:
    deltas = into if into is not None else []
    async for delta in stream:
        deltas.append(delta)
    return deltas


async def test_streams_the_deltas_in_order(server: ChatServer) -> None:
    server.script.append(sse(["Upload ", "it from ", "the chat."]))

    deltas = await collect(provider(server).stream_reply(context()))

    assert deltas == ["Upload ", "it from ", "the chat."]


async def test_sends_model_system_prompt_window_and_message(server: ChatServer) -> None:
    server.script.append(sse(["ok"]))
    window = [
        WindowMessage("user", "What formats do you read?"),
        WindowMessage("assistant", "Text, CSV and JSON."),
    ]

    await collect(provider(server).stream_reply(context("and PDF?", window=window)))

    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "test-model"
    assert request.body["stream"] is True
    messages = request.body["messages"]
    assert messages[0]["role"] == "system"
    assert "Content liaison" in messages[0]["content"]
    assert messages[1:] == [
        {"role": "user", "content": "What formats do you read?"},
        {"role": "assistant", "content": "Text, CSV and JSON."},
        {"role": "user", "content": "and PDF?"},
    ]


async def test_grounds_the_prompt_in_knowledge_and_the_capability_result(
    server: ChatServer,
) -> None:
    server.script.append(sse(["ok"]))
    outcome = CapabilityOutcome("parse_file", True, "I parsed sales.csv: 42 data rows.")

    await collect(provider(server).stream_reply(context("parse sales.csv", capability=outcome)))

    system = server.requests[0].body["messages"][0]["content"]
    assert "Reference notes:" in system
    assert "I parsed sales.csv: 42 data rows." in system


async def test_no_key_sends_no_authorization(server: ChatServer) -> None:
    server.script.append(sse(["ok"]))

    await collect(provider(server, api_key="").stream_reply(context()))

    assert "authorization" not in server.requests[0].headers


async def test_a_connection_cut_mid_stream_is_retryable(server: ChatServer) -> None:
    server.script.append(sse(["Upload ", "it from ", "the chat."], cut_after=2))
    received: list[str] = []

    with pytest.raises(ReplyUnavailable, match="connection to the model server failed"):
        await collect(provider(server).stream_reply(context()), received)

    # The user saw the start of the reply; the retry will restart it.
    assert received == ["Upload ", "it from "]


async def test_a_stream_that_ends_without_done_is_retryable(server: ChatServer) -> None:
    server.script.append(sse(["Upload ", "it."], done=False))

    with pytest.raises(ReplyUnavailable, match=r"\[DONE\]"):
        await collect(provider(server).stream_reply(context()))


async def test_429_is_retryable_after_the_servers_delay(server: ChatServer) -> None:
    server.script.append(
        status(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "7"})
    )

    with pytest.raises(ReplyUnavailable) as raised:
        await collect(provider(server).stream_reply(context()))

    assert raised.value.retry_after_seconds == 7.0
    assert "429" in str(raised.value)


async def test_503_is_retryable_without_a_delay(server: ChatServer) -> None:
    server.script.append(status(503, {"error": {"message": "overloaded"}}))

    with pytest.raises(ReplyUnavailable) as raised:
        await collect(provider(server).stream_reply(context()))

    assert raised.value.retry_after_seconds is None


async def test_400_is_rejected_with_the_servers_reason(server: ChatServer) -> None:
    server.script.append(status(400, {"error": {"message": "model 'nope' not found"}}))

    with pytest.raises(ReplyRejected, match="model 'nope' not found"):
        await collect(provider(server).stream_reply(context()))


async def test_a_refused_connection_is_retryable() -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    closed = OpenAICompatibleProvider(f"http://127.0.0.1:{port}/v1", "", "m")

    with pytest.raises(ReplyUnavailable, match="connection"):
        await collect(closed.stream_reply(context()))


async def test_a_borrowed_client_stays_open(server: ChatServer) -> None:
    server.script.extend([sse(["one"]), sse(["two"])])
    async with httpx.AsyncClient() as client:
        shared = OpenAICompatibleProvider(server.base_url, "k", "m", http_client=client)

        first = await collect(shared.stream_reply(context()))
        second = await collect(shared.stream_reply(context()))

        assert (first, second) == (["one"], ["two"])
        assert not client.is_closed
