"""A real HTTP server on 127.0.0.1 speaking the OpenAI Chat Completions stream format.

A small asyncio HTTP/1.1 server that writes exactly what Chat Completions servers send:
`text/event-stream` in chunked transfer encoding, one `data: {...}` event per delta,
`data: [DONE]` at the end. Each test scripts its responses, including a connection cut in the
middle of a stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

Responder = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ChatServer:
    """Serves one scripted response per request, in order, and records the requests."""

    script: list[Responder] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode().split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Recorded(request_line.split()[1], headers, json.loads(body)))
        await self.script.pop(0)(writer)


def chunk(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def completion_chunk(content: str | None, finish: str | None = None) -> str:
    delta = {} if content is None else {"content": content}
    event = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n"


def sse(deltas: list[str], *, done: bool = True, cut_after: int | None = None) -> Responder:
    """A 200 event stream of the deltas; `cut_after` drops the connection after that many."""

    async def respond(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        # What real servers send around the content: a role-only chunk and a keep-alive.
        writer.write(chunk('data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'))
        writer.write(chunk(": keep-alive\n\n"))
        for sent, delta in enumerate(deltas):
            if cut_after is not None and sent == cut_after:
                await writer.drain()
                writer.transport.abort()  # no terminating chunk: a dropped connection
                return
            writer.write(chunk(completion_chunk(delta)))
            await writer.drain()
        writer.write(chunk(completion_chunk(None, finish="stop")))
        writer.write(chunk('data: {"choices":[],"usage":{"total_tokens":9}}\n\n'))
        if done:
            writer.write(chunk("data: [DONE]\n\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    return respond


def status(code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Responder:
    async def respond(writer: asyncio.StreamWriter) -> None:
        payload = json.dumps(body).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        writer.write(
            f"HTTP/1.1 {code} Status\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{extra}Connection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()

    return respond


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    """A scripted Chat Completions server on a free loopback port."""
    chat = ChatServer()
    listener = await asyncio.start_server(chat.handle, "127.0.0.1", 0)
    chat.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield chat
        listener.close()
