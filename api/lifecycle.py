"""Ending sockets on purpose: when the edge restarts, and when Redis or Temporal is gone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis.exceptions
from fastapi import WebSocket
from temporalio.service import RPCError

from api import frames

logger = logging.getLogger(__name__)

RESTART_REASON = "the server is restarting; reconnect now"
UNAVAILABLE_REASON = "the chat service cannot reach its storage; try again later"

# A socket's work failing with one of these means a backend is down, not that the socket
# misbehaved: it is closed with 1013 and one log line, without a traceback.
BACKEND_UNREACHABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    RPCError,
)


class OpenSockets:
    """The accepted sockets, so that a shutting-down edge can tell each why it closes."""

    def __init__(self) -> None:
        self._sockets: set[WebSocket] = set()

    @contextmanager
    def track(self, websocket: WebSocket) -> Iterator[None]:
        self._sockets.add(websocket)
        try:
            yield
        finally:
            self._sockets.discard(websocket)

    def __len__(self) -> int:
        return len(self._sockets)

    async def close_all(self, code: int, reason: str) -> None:
        """Close every socket with `code`; their handlers then end as on any disconnect."""
        closing = [websocket.close(code, reason) for websocket in self._sockets]
        # A socket that is closing anyway refuses a second close; that is fine.
        await asyncio.gather(*closing, return_exceptions=True)


async def close_unavailable(websocket: WebSocket, error: BaseException) -> None:
    """Close a socket whose backend (Redis or Temporal) is unreachable, with one log line."""
    logger.warning("closing a socket with 1013: a backend is unreachable (%r)", error)
    with contextlib.suppress(RuntimeError):  # the socket was closed already
        await websocket.close(frames.CLOSE_TRY_AGAIN_LATER, UNAVAILABLE_REASON)
