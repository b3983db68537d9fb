"""A client that behaves as the page does when servers fail under it: it reconnects to whichever
API answers with its `last_event_id`, and resends a message with the same `client_message_id`
after `unavailable` or a lost socket, until the message is accepted and answered. It keeps what
a user would see (the streamed text of each reply) so the tests can compare it with the record.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import websockets

from tests.integration.chat_client import Frame, connect

PATH = "/api/ws/guide"
RETRY_SECONDS = 0.5
# Silence this long while a reply is pending, on a socket that is still open, is a stall: the
# client reconnects, as a user reloading the page would, and the stall is counted.
STALL_SECONDS = 30
# What a socket or a connect attempt can fail with while a server is down or restarting.
DISCONNECTS = (websockets.ConnectionClosed, websockets.InvalidHandshake, OSError, TimeoutError)


@dataclass
class Turn:
    """One user message and what the client saw of its reply."""

    text: str
    client_message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sent_at: float = 0.0
    message_id: str | None = None
    accepted_at: float | None = None
    # The reply's text as streamed, across reconnects; emptied by reply_restarted.
    streamed: str = ""
    response: Frame | None = None
    completed_at: float | None = None
    restarts: int = 0
    unavailable: int = 0
    # Monotonic times of every frame about this turn, to measure when it came back to life.
    frame_times: list[float] = field(default_factory=list)
    streaming: asyncio.Event = field(default_factory=asyncio.Event)

    def first_frame_after(self, moment: float) -> float | None:
        return next((t for t in self.frame_times if t > moment), None)


@dataclass
class Conversation:
    """The guide's conversation of one session, over as many sockets as it takes."""

    # Where the APIs are right now: the tests start and kill them under the client.
    api_urls: Callable[[], list[str]]
    token: str | None = None
    last_event_id: str | None = None
    reconnects: int = 0
    stalls: int = 0
    close_codes: Counter[int | None] = field(default_factory=Counter)
    # Every conversation event id received, counted: above 1 is an event delivered twice.
    event_counts: Counter[str] = field(default_factory=Counter)
    _turns: itertools.count[int] = field(default_factory=itertools.count)

    def _next_url(self) -> str:
        urls = self.api_urls() or ["ws://127.0.0.1:9"]
        return urls[next(self._turns) % len(urls)]

    async def start(self) -> None:
        """A new session: remember its token and where its stream stands."""
        async with connect(self._next_url(), PATH) as client:
            created = await client.recv_type("session_created")
            self.token = created["session_token"]
            restored = await client.recv_type("conversation_restored")
            self.last_event_id = restored["latest_event_id"]

    async def send(self, turn: Turn, seconds: float = 150) -> Turn:
        """Deliver `turn` and wait for its whole reply, whatever fails in between."""
        turn.sent_at = time.monotonic()
        async with asyncio.timeout(seconds):
            while turn.response is None:
                try:
                    await self._one_socket(turn)
                except DISCONNECTS as error:
                    if isinstance(error, websockets.ConnectionClosed):
                        self.close_codes[error.rcvd.code if error.rcvd else None] += 1
                    self.reconnects += 1
                    await asyncio.sleep(RETRY_SECONDS)
        return turn

    async def _one_socket(self, turn: Turn) -> None:
        async with connect(
            self._next_url(), PATH, session_token=self.token, last_event_id=self.last_event_id
        ) as client:
            await client.recv_type("conversation_restored")
            if turn.message_id is None:
                await client.chat(turn.text, turn.client_message_id)
            while turn.response is None:
                try:
                    frame = await client.recv(wait_seconds=STALL_SECONDS)
                except TimeoutError:
                    self.stalls += 1
                    raise
                if self._apply(frame, turn):
                    await asyncio.sleep(1)
                    await client.chat(turn.text, turn.client_message_id)

    def _apply(self, frame: Frame, turn: Turn) -> bool:
        """Update the turn from one frame; True when the message must be sent again."""
        kind = frame["type"]
        # A `duplicate` ack answers a resend with the recorded message's event: not a new event.
        if (
            frame.get("event_id")
            and kind not in ("conversation_restored", "error")
            and not frame.get("duplicate")
        ):
            self.event_counts[frame["event_id"]] += 1
            self.last_event_id = frame["event_id"]
        now = time.monotonic()
        if kind == "message_accepted" and frame["client_message_id"] == turn.client_message_id:
            turn.message_id = frame["message_id"]
            turn.accepted_at = turn.accepted_at or now
            turn.frame_times.append(now)
        elif kind == "error" and frame.get("client_message_id") == turn.client_message_id:
            turn.frame_times.append(now)
            if frame["code"] != "unavailable":
                raise AssertionError(f"message refused: {frame['code']}")
            turn.unavailable += 1
            return turn.message_id is None
        elif turn.message_id is None:
            return False
        elif kind == "error" and frame.get("in_reply_to") == turn.message_id:
            raise AssertionError(f"reply failed: {frame['code']}")
        elif kind == "chat_chunk" and frame["message_id"] == reply_id(turn.message_id):
            turn.streamed += frame["delta"]
            turn.frame_times.append(now)
            turn.streaming.set()
        elif kind == "reply_restarted" and frame["message_id"] == reply_id(turn.message_id):
            turn.streamed = ""
            turn.restarts += 1
            turn.frame_times.append(now)
        elif kind == "chat_response" and frame["in_reply_to"] == turn.message_id:
            turn.response = frame
            turn.completed_at = now
            turn.frame_times.append(now)
        return False

    async def history(self) -> list[Frame]:
        """The recorded messages, as a page loading now would get them."""
        async with connect(self._next_url(), PATH, session_token=self.token) as client:
            restored = await client.recv_type("conversation_restored")
        assert restored["message_count"] == len(restored["messages"])
        messages: list[Frame] = restored["messages"]
        return messages

    def duplicated_events(self) -> int:
        return sum(count - 1 for count in self.event_counts.values())


def reply_id(message_id: str) -> str:
    """The id the workflow gives the reply to a user message."""
    return f"r-{message_id}"
