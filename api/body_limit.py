"""A cap on REST request bodies, enforced as the bytes arrive.

FastAPI reads a JSON body whole before validating it, so a size check in a route comes too
late: this middleware answers 413 from `Content-Length` before reading anything, and counts
the bytes of bodies sent without one (chunked), refusing at the first byte past the cap.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ErrorBody
from foundations.errors import ErrorCode


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyLimit:
    """Caps HTTP request bodies at `limit` bytes; paths under a prefix of `limits` get theirs."""

    def __init__(self, app: ASGIApp, limit: int, limits: dict[str, int] | None = None) -> None:
        self._app = app
        self._limit = limit
        self._limits = limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = next(
            (cap for prefix, cap in self._limits.items() if path.startswith(prefix)), self._limit
        )
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, BodyTooLarge(limit))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: FastAPI passes it on from body parsing, as a 413.
                    raise BodyTooLarge(limit)
            return message

        await self._app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects a malformed length itself
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, error: HTTPException) -> None:
    # The body is never read into memory; the server discards what the client still sends,
    # so a client that sends the whole body before reading the answer still gets the 413.
    body = ErrorBody(code=ErrorCode.BODY_TOO_LARGE, detail=error.detail)
    await JSONResponse(body.model_dump(mode="json"), status_code=error.status_code)(
        scope, receive, send
    )
