"""Every error the platform reports, spelled once.

An `ErrorCode` is at the same time the `type` of a workflow's `ApplicationError`, the `code`
of a refusal at the edge and the `code` of an `error` frame or REST error body: nothing
translates one spelling into another. `api/errors.py` maps each code to its close code and
HTTP status; `docs/protocol.md` documents them.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # A client frame the edge cannot use.
    INVALID_JSON = "invalid_json"
    INVALID_FRAME = "invalid_frame"
    UNKNOWN_TYPE = "unknown_type"
    # A message that is refused.
    EMPTY_MESSAGE = "empty_message"
    MESSAGE_TOO_LONG = "message_too_long"
    RATE_LIMITED = "rate_limited"
    CONTENT_POLICY = "content_policy"
    TOO_MANY_PENDING_MESSAGES = "too_many_pending_messages"
    UNKNOWN_AGENT = "unknown_agent"
    # The session.
    SESSION_INVALID = "session_invalid"
    SESSION_CLOSED = "session_closed"
    # Connecting.
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    INVALID_PILLAR = "invalid_pillar"
    ORCHESTRATOR_NOT_AVAILABLE = "orchestrator_not_available"
    LIAISON_NOT_AVAILABLE = "liaison_not_available"
    WEBSOCKET_DISABLED = "websocket_disabled"
    TOO_MANY_SOCKETS = "too_many_sockets"
    TOO_MANY_SESSIONS = "too_many_sessions"
    SESSION_SOCKETS_FULL = "session_sockets_full"
    # The platform.
    UNAVAILABLE = "unavailable"
    REPLY_FAILED = "reply_failed"
    REPLY_TIMEOUT = "reply_timeout"
    # REST requests and uploads.
    INVALID_REQUEST = "invalid_request"
    BODY_TOO_LARGE = "body_too_large"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_MANY_UPLOADS = "too_many_uploads"
    # Questions an agent asks before it acts (approvals, clarifying questions).
    UNKNOWN_QUESTION = "unknown_question"
    QUESTION_CLOSED = "question_closed"
    INVALID_ANSWER = "invalid_answer"
    # Feedback, regenerate and edit-and-resend.
    UNKNOWN_MESSAGE = "unknown_message"
    NOT_LATEST_REPLY = "not_latest_reply"


# Refusals written both by the edge's precheck and by the workflow's validator (the authority):
# one text, so a client sees the same words whichever refused it.
EMPTY_MESSAGE = "The message is empty."
BLOCKED_TERM = "The message contains a blocked term."


def message_too_long(length: int, limit: int) -> str:
    return f"The message has {length} characters; the limit is {limit}."
