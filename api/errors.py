"""The edge's one error table: error code -> HTTP status and WebSocket close code.

Every error the edge reports has an `ErrorCode` (`foundations/errors.py`); this table is the
only place that says how the REST fallback and the WebSocket answer it. A REST error body is
always an `ErrorBody`; a WebSocket error either closes the socket with the code's close code
or, when it has none, goes out as an `error` frame and the socket stays open.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from agents.orchestrators import LiaisonNotAvailable, OrchestratorNotAvailable
from api import frames
from api.agent_sdk import InvalidPillar, InvalidToken, MessageRefused, SubmitTimedOut
from api.lifecycle import BACKEND_UNREACHABLE
from foundations.errors import ErrorCode
from foundations.uploads import TooManyUploads

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """How the edge answers one error code."""

    # The REST fallback's status.
    status: int
    # The WebSocket close code, when the error ends the socket; None: an `error` frame.
    close: int | None = None


ERRORS: dict[ErrorCode, Answer] = {
    ErrorCode.INVALID_JSON: Answer(422),
    ErrorCode.INVALID_FRAME: Answer(422),
    ErrorCode.UNKNOWN_TYPE: Answer(422),
    ErrorCode.EMPTY_MESSAGE: Answer(422),
    ErrorCode.MESSAGE_TOO_LONG: Answer(422),
    ErrorCode.RATE_LIMITED: Answer(429, frames.CLOSE_FLOODING),
    ErrorCode.CONTENT_POLICY: Answer(422),
    ErrorCode.TOO_MANY_PENDING_MESSAGES: Answer(429),
    ErrorCode.UNKNOWN_AGENT: Answer(422),
    ErrorCode.SESSION_INVALID: Answer(401, frames.CLOSE_INVALID_TOKEN),
    ErrorCode.SESSION_CLOSED: Answer(401, frames.CLOSE_INVALID_TOKEN),
    ErrorCode.ORIGIN_NOT_ALLOWED: Answer(403, frames.CLOSE_ORIGIN_NOT_ALLOWED),
    ErrorCode.INVALID_PILLAR: Answer(404, frames.CLOSE_INVALID_PILLAR),
    ErrorCode.ORCHESTRATOR_NOT_AVAILABLE: Answer(503, frames.CLOSE_ORCHESTRATOR_NOT_AVAILABLE),
    ErrorCode.LIAISON_NOT_AVAILABLE: Answer(503, frames.CLOSE_LIAISON_NOT_AVAILABLE),
    ErrorCode.WEBSOCKET_DISABLED: Answer(404, frames.CLOSE_WEBSOCKET_DISABLED),
    ErrorCode.TOO_MANY_SOCKETS: Answer(429, frames.CLOSE_TOO_MANY_SOCKETS),
    ErrorCode.TOO_MANY_SESSIONS: Answer(429, frames.CLOSE_TOO_MANY_SESSIONS),
    ErrorCode.SESSION_SOCKETS_FULL: Answer(429, frames.CLOSE_SESSION_SOCKETS_FULL),
    ErrorCode.UNAVAILABLE: Answer(503, frames.CLOSE_TRY_AGAIN_LATER),
    ErrorCode.REPLY_FAILED: Answer(502),
    ErrorCode.REPLY_TIMEOUT: Answer(504),
    ErrorCode.INVALID_REQUEST: Answer(422),
    ErrorCode.BODY_TOO_LARGE: Answer(413, frames.CLOSE_FRAME_TOO_BIG),
    ErrorCode.NOT_FOUND: Answer(404),
    ErrorCode.METHOD_NOT_ALLOWED: Answer(405),
    ErrorCode.TOO_MANY_UPLOADS: Answer(409),
    ErrorCode.UNKNOWN_QUESTION: Answer(404),
    ErrorCode.QUESTION_CLOSED: Answer(409),
    ErrorCode.INVALID_ANSWER: Answer(422),
    ErrorCode.UNKNOWN_MESSAGE: Answer(404),
    ErrorCode.NOT_LATEST_REPLY: Answer(409),
}

# Errors raised by the services the edge calls, by the code they stand for.
RAISED: dict[type[Exception], ErrorCode] = {
    InvalidToken: ErrorCode.SESSION_INVALID,
    InvalidPillar: ErrorCode.INVALID_PILLAR,
    OrchestratorNotAvailable: ErrorCode.ORCHESTRATOR_NOT_AVAILABLE,
    LiaisonNotAvailable: ErrorCode.LIAISON_NOT_AVAILABLE,
    TooManyUploads: ErrorCode.TOO_MANY_UPLOADS,
}
_CODES = {code.value for code in ErrorCode}
# What connecting to a conversation can raise, for `except`.
CONNECT_ERRORS = (InvalidToken, InvalidPillar, OrchestratorNotAvailable, LiaisonNotAvailable)
# What submitting a message can raise; `refusal` says what each means to the client.
SUBMIT_ERRORS = (
    MessageRefused,
    WorkflowUpdateFailedError,
    RPCError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    SubmitTimedOut,
)


class EdgeError(Exception):
    """An error for the client: its code, a sentence saying what to do, and a wait if any."""

    def __init__(self, code: ErrorCode, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def answer(self) -> Answer:
        return ERRORS[self.code]


def raised(error: Exception) -> EdgeError:
    """A service's exception (one of `RAISED`) as the client's error."""
    return EdgeError(RAISED[type(error)], str(error)[:120])


def refusal(error: Exception) -> EdgeError:
    """Why a message was not accepted (one of `SUBMIT_ERRORS`)."""
    if isinstance(error, MessageRefused):
        return EdgeError(error.code, str(error), error.retry_after)
    if isinstance(error, WorkflowUpdateFailedError):
        # The workflow's validator refuses with an ApplicationError whose type is the code.
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type in _CODES:
            return EdgeError(ErrorCode(cause.type), cause.message)
        return EdgeError(ErrorCode.UNAVAILABLE, "The message could not be admitted; send it again.")
    return EdgeError(ErrorCode.UNAVAILABLE, "The chat service is busy; send the message again.")


# --- the REST fallback's answers -------------------------------------------------------------


class FieldError(BaseModel):
    """One bad field of a request; the value itself is never echoed."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every REST error answer."""

    code: ErrorCode
    # What went wrong and what to do, for a person.
    detail: str
    # The bad fields, for `invalid_request`.
    errors: list[FieldError] = []


# Every documented error answer of the REST routes, by status.
def responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The OpenAPI `responses` of a route that can answer these statuses."""
    described = {
        400: "The body is not valid JSON.",
        401: "The session token is invalid or has expired.",
        404: "No such pillar, question (`unknown_question`) or message in the conversation.",
        409: "Conflict: the session holds its maximum of files, the question is closed, or the "
        "reply is not the latest.",
        413: "The request body is larger than the limit.",
        422: "The request or its message was refused; `code` says why.",
        429: "Rate limited; `Retry-After` says how many seconds to wait.",
        502: "The agent could not produce a reply.",
        503: "The service cannot take the request right now.",
        504: "The reply did not arrive in time; it will be in the history.",
    }
    return {
        status: {"model": ErrorBody, "description": described[status]}
        for status in sorted({*statuses, 413, 422})
    }


def error_response(error: EdgeError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(code=error.code, detail=error.message)
    wait = {} if error.retry_after is None else {"Retry-After": str(error.retry_after)}
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=error.answer.status,
        headers={**wait, **(headers or {})},
    )


async def _edge_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, EdgeError)
    return error_response(error)


async def _raised(request: Request, error: Exception) -> JSONResponse:
    return error_response(raised(error))


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 naming each bad field, without echoing the input.

    FastAPI's default answer repeats the input, which cannot even be encoded when it holds a
    lone surrogate (a 500), and which would send a message body back verbatim.
    """
    assert isinstance(error, RequestValidationError)
    fields = [
        FieldError(loc=list(item["loc"]), msg=item["msg"], type=item["type"])
        for item in error.errors()
    ]
    first = fields[0] if fields else None
    where = ".".join(str(part) for part in first.loc[1:]) if first else "request"
    detail = f"{where}: {first.msg}" if first else "The request is not valid."
    body = ErrorBody(code=ErrorCode.INVALID_REQUEST, detail=detail, errors=fields)
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


_HTTP_CODES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.BODY_TOO_LARGE,
}


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own answers (no such route, method not allowed, body too large)."""
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    headers = dict(error.headers or {})
    allowed = _allowed_methods(request) if status in (404, 405) else []
    if allowed:
        # A documented path with another method: 405, whether Starlette said so or the page's
        # static files (mounted at "/") answered 404; Allow lists the documented methods, all
        # of them (Starlette's names those of the first route that matched the path only).
        status = 405
        headers["Allow"] = ", ".join(allowed)
    code = _HTTP_CODES.get(status, ErrorCode.INVALID_REQUEST)
    detail = "Method Not Allowed" if status != error.status_code else str(error.detail)
    return JSONResponse(
        ErrorBody(code=code, detail=detail).model_dump(mode="json"),
        status_code=status,
        headers=headers,
    )


def _allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document lists for the request's path (templates included)."""
    path = request.url.path
    operations: dict[str, object] = next(
        (
            methods
            for template, methods in request.app.openapi()["paths"].items()
            # A path template ("/questions/{question_id}/answer") matches any segment there.
            if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path)
        ),
        {},
    )
    return sorted(method.upper() for method in operations)


async def _unavailable(request: Request, error: Exception) -> JSONResponse:
    logger.warning("a backend is unreachable: %r", error)
    return error_response(
        EdgeError(ErrorCode.UNAVAILABLE, "The service cannot reach its backends; try again.")
    )


def install(app: FastAPI) -> None:
    """Answer every error with an `ErrorBody`, its status from the table."""
    app.add_exception_handler(EdgeError, _edge_error)
    for kind in RAISED:
        app.add_exception_handler(kind, _raised)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unreachable in BACKEND_UNREACHABLE:
        if issubclass(unreachable, Exception):
            app.add_exception_handler(unreachable, _unavailable)
