"""A small WebSocket client speaking docs/protocol.md, for the integration tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

Frame = dict[str, Any]


@dataclass
class ChatClient:
    socket: ClientConnection
    received: list[Frame] = field(default_factory=list)

    async def recv(self, wait_seconds: float = 15) -> Frame:
        frame: Frame = json.loads(await asyncio.wait_for(self.socket.recv(), wait_seconds))
        self.received.append(frame)
        return frame

    async def recv_type(self, type: str, wait_seconds: float = 15) -> Frame:
        """Frames until one of `type` (the skipped ones stay in `received`)."""
        async with asyncio.timeout(wait_seconds):
            while True:
                frame = await self.recv()
                if frame["type"] == type:
                    return frame

    async def send(self, frame: Frame) -> None:
        await self.socket.send(json.dumps(frame))

    async def chat(self, message: str, client_message_id: str | None = None) -> None:
        frame: Frame = {"type": "chat_message", "message": message}
        if client_message_id is not None:
            frame["client_message_id"] = client_message_id
        await self.send(frame)

    async def turn(self, message: str, client_message_id: str | None = None) -> Frame:
        """Send a message and return its chat_response."""
        await self.chat(message, client_message_id)
        accepted = await self.recv_type("message_accepted")
        async with asyncio.timeout(20):
            while True:
                frame = await self.recv()
                if (
                    frame["type"] == "chat_response"
                    and frame["in_reply_to"] == accepted["message_id"]
                ):
                    return frame
                if frame["type"] == "error":
                    raise AssertionError(f"turn failed: {frame}")

    def deltas(self, message_id: str) -> str:
        return "".join(
            f["delta"]
            for f in self.received
            if f["type"] == "chat_chunk" and f["message_id"] == message_id
        )

    def event_ids(self) -> Iterator[str]:
        return (
            f["event_id"]
            for f in self.received
            if f.get("event_id") and f["type"] != "conversation_restored"
        )


@asynccontextmanager
async def connect(
    ws_url: str,
    path: str,
    *,
    session_token: str | None = None,
    last_event_id: str | None = None,
    origin: str | None = None,
    chat_id: str | None = None,
    ticket: str | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[ChatClient]:
    """A socket; with `ticket`, offered as the page does (docs/privacy.md)."""
    query = []
    if session_token is not None:
        query.append(f"session_token={session_token}")
    if chat_id is not None:
        query.append(f"chat_id={chat_id}")
    if last_event_id is not None:
        query.append(f"last_event_id={last_event_id}")
    url = f"{ws_url}{path}" + ("?" + "&".join(query) if query else "")
    headers = {**(headers or {}), **({"Origin": origin} if origin else {})}
    subprotocols = (
        None if ticket is None else [Subprotocol("chat.v1"), Subprotocol(f"ticket.{ticket}")]
    )
    async with websockets.connect(
        url, additional_headers=headers, max_size=2**22, subprotocols=subprotocols
    ) as socket:
        yield ChatClient(socket)


async def close_code(ws_url: str, path: str, **kwargs: Any) -> tuple[int | None, str | None]:
    """Connect and return how the server closed the socket."""
    async with connect(ws_url, path, **kwargs) as client:
        try:
            while True:
                await client.recv(wait_seconds=10)
        except websockets.ConnectionClosed as closed:
            return (
                closed.rcvd.code if closed.rcvd else None,
                closed.rcvd.reason if closed.rcvd else None,
            )
    return None, None
