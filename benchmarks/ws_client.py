"""The asyncio WebSocket load client: one `ChatSocket` drives a conversation as a browser tab
would, over the protocol of docs/protocol.md. It never looks at reply text: a turn is matched
by its client message id, then its message id, so the agent can change freely."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

# Browsers neither ping nor compress; the server pings idle sockets itself.
_CONNECT_OPTIONS: dict[str, Any] = {
    "compression": None,
    "ping_interval": None,
    "open_timeout": 60,
    "close_timeout": 5,
    "max_size": 1 << 20,
}
PROBE_PREFIX = "probe:"
OPEN_ATTEMPTS = 5
T = TypeVar("T")


class TurnFailed(Exception):
    """The server answered a turn with an `error` frame."""


@dataclass(frozen=True)
class TurnTiming:
    """One turn, in seconds from the moment the `chat_message` frame was sent."""

    ack: float
    first_chunk: float | None
    response: float
    chunks: int
    # perf_counter() when the response arrived: decides which timed window the turn falls in.
    finished_at: float
    # Characters of the recorded reply.
    reply_chars: int = 0


class ChatSocket:
    """A socket to the guide's conversation of a new session."""

    def __init__(
        self, websocket: ClientConnection, session_id: str, session_token: str = ""
    ) -> None:
        self.websocket = websocket
        self.session_id = session_id
        # What the REST routes (uploads) take to act in this session, and what brings a
        # client back to it on another socket.
        self.session_token = session_token
        self.turns = 0

    @classmethod
    async def open(cls, base_url: str, path: str = "/api/ws/guide") -> ChatSocket:
        """Connect without a token (a new session) and read until the history is restored."""
        websocket = await connect(f"{base_url}{path}", **_CONNECT_OPTIONS)
        session_id = token = ""
        while True:
            frame = json.loads(await websocket.recv())
            if frame["type"] == "session_created":
                session_id, token = frame["session_id"], frame["session_token"]
            elif frame["type"] == "conversation_restored":
                return cls(websocket, session_id or frame["session_id"], token)

    async def turn(self, message: str, client_message_id: str | None = None) -> TurnTiming:
        """Send a message and wait for its reply: ack, first chunk and response times.

        Pass the `client_message_id` of an earlier attempt to resend it, as the page does.
        """
        client_message_id = client_message_id or uuid.uuid4().hex
        started = time.perf_counter()
        await self.websocket.send(
            json.dumps(
                {"type": "chat_message", "message": message, "client_message_id": client_message_id}
            )
        )
        message_id: str | None = None
        ack = 0.0
        first_chunk: float | None = None
        chunks = 0
        while True:
            frame = json.loads(await self.websocket.recv())
            now = time.perf_counter()
            kind = frame["type"]
            if kind == "message_accepted" and frame.get("client_message_id") == client_message_id:
                message_id = frame["message_id"]
                ack = now - started
            elif kind == "chat_chunk" and message_id is not None:
                chunks += 1
                if first_chunk is None:
                    first_chunk = now - started
            elif kind == "reply_restarted":
                first_chunk, chunks = None, 0
            elif kind == "chat_response" and message_id and frame.get("in_reply_to") == message_id:
                self.turns += 1
                reply_chars = len(frame.get("message") or "")
                return TurnTiming(ack, first_chunk, now - started, chunks, now, reply_chars)
            elif kind == "error" and (
                frame.get("client_message_id") == client_message_id
                or (message_id is not None and frame.get("in_reply_to") == message_id)
            ):
                raise TurnFailed(frame.get("code", "error"))

    async def collect_probe_deltas(
        self, latencies: list[float], since_event_id: list[float] | None = None
    ) -> None:
        """Until cancelled: each probe delta's publish-to-arrival time, in seconds.

        `since_event_id` gets arrival minus the millisecond in the delta's event id, which
        Redis assigned when it appended and published it (a cross-check, to the millisecond).
        """
        while True:
            raw = await self.websocket.recv()
            arrived = time.time_ns()
            frame = json.loads(raw)
            delta = frame.get("delta")
            if (
                frame["type"] == "chat_chunk"
                and isinstance(delta, str)
                and delta.startswith(PROBE_PREFIX)
            ):
                latencies.append((arrived - int(delta[len(PROBE_PREFIX) :])) / 1e9)
                if since_event_id is not None:
                    published_ms = int(frame["event_id"].partition("-")[0])
                    since_event_id.append(arrived / 1e9 - published_ms / 1e3)

    async def close(self) -> None:
        await self.websocket.close()


class EchoSocket:
    """A socket to the bare-edge echo server."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket

    @classmethod
    async def open(cls, url: str) -> EchoSocket:
        return cls(await connect(url, **_CONNECT_OPTIONS))

    async def round_trip(self, message: str) -> float:
        started = time.perf_counter()
        await self.websocket.send(message)
        await self.websocket.recv()
        return time.perf_counter() - started

    async def close(self) -> None:
        await self.websocket.close()


async def open_many(
    opener: Callable[[], Awaitable[T]],
    count: int,
    concurrency: int = 20,
    seconds: float = 120,
    retries: Counter[str] | None = None,
) -> list[T]:
    """Open `count` sockets with at most `concurrency` handshakes in flight.

    A socket the server closes or refuses while opening is tried again (up to 5 times), and
    counted in `retries` by what went wrong.
    """
    gate = asyncio.Semaphore(concurrency)

    async def one() -> T:
        async with gate:
            for attempt in range(1, OPEN_ATTEMPTS + 1):
                try:
                    return await opener()
                except (ConnectionClosed, InvalidStatus, OSError) as error:
                    if retries is not None:
                        retries[type(error).__name__] += 1
                    if attempt == OPEN_ATTEMPTS:
                        raise
                    await asyncio.sleep(0.2 * attempt)
            raise AssertionError("unreachable")

    async with asyncio.timeout(seconds):
        return list(await asyncio.gather(*(one() for _ in range(count))))


async def close_many(sockets: list[Any], concurrency: int = 200) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(socket: Any) -> None:
        async with gate:
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(socket.close(), 10)

    await asyncio.gather(*(one(socket) for socket in sockets))
