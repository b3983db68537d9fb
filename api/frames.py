"""WebSocket frames and close codes; `docs/protocol.md` documents every one of them."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from foundations.errors import ErrorCode

# Close codes, shared with docs/protocol.md.
CLOSE_INVALID_TOKEN = 4001
CLOSE_ORIGIN_NOT_ALLOWED = 4003
CLOSE_INVALID_PILLAR = 4004
CLOSE_ORCHESTRATOR_NOT_AVAILABLE = 4005
CLOSE_LIAISON_NOT_AVAILABLE = 4006
CLOSE_WEBSOCKET_DISABLED = 4010
CLOSE_FLOODING = 1008  # policy violation
CLOSE_FRAME_TOO_BIG = 1009  # sent by the server's WebSocket layer (ws_max_size)
# Admission: the reason ends with "retry_after=<seconds>", the wait before connecting again.
CLOSE_TOO_MANY_SOCKETS = 4008  # new sockets from one client address
CLOSE_TOO_MANY_SESSIONS = 4009  # new sessions from one client address
CLOSE_SESSION_SOCKETS_FULL = 4011  # sockets open on one session
CLOSE_SLOW_CONSUMER = 4012  # the socket fell too far behind; reconnect with last_event_id
CLOSE_SERVICE_RESTART = 1012  # the edge is shutting down (a deploy): reconnect at once
CLOSE_TRY_AGAIN_LATER = 1013  # Redis or Temporal is unreachable: reconnect after a backoff

# ASCII classes only: `\d` also matches other scripts' digits, which Redis does not read.
EVENT_ID_PATTERN = r"^[0-9]{1,20}-[0-9]{1,20}$"
# Printable ASCII, no spaces.
CLIENT_MESSAGE_ID_PATTERN = r"^[!-~]{1,128}$"
# A user message id ("m-" and 32 hex digits), or its reply's ("r-m-...", "-<n>" when regenerated).
MESSAGE_ID_PATTERN = r"^(r-)?m-[0-9a-f]{32}(-[0-9]{1,6})?$"


def plain_text(value: str) -> str:
    """Text that can be stored: no NUL and no lone surrogate (which UTF-8 cannot encode)."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must not contain lone surrogates (invalid \\u escapes)") from None
    return value


PlainText = Annotated[str, AfterValidator(plain_text)]
ClientMessageId = Annotated[str, Field(pattern=CLIENT_MESSAGE_ID_PATTERN)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatMessageFrame(_Frame):
    type: Literal["chat_message"]
    message: PlainText
    client_message_id: ClientMessageId | None = None


class ResumeFrame(_Frame):
    type: Literal["resume"]
    last_event_id: str = Field(pattern=EVENT_ID_PATTERN)


class PingFrame(_Frame):
    type: Literal["ping"]


class CancelFrame(_Frame):
    type: Literal["cancel"]
    # The reply's id, or the id of the user message it answers.
    message_id: str = Field(pattern=MESSAGE_ID_PATTERN)


# "q-" and 32 hex digits.
QUESTION_ID_PATTERN = r"^q-[0-9a-f]{32}$"
# An edited input, a short text answer: no longer than a message.
ANSWER_MAX_CHARS = 8000


# Without NUL, as the OpenAPI document says with a pattern (PlainText also names lone surrogates).
_NO_NUL = r"^[^\x00]*$"


_DOCUMENTED = Field(json_schema_extra={"pattern": _NO_NUL})
AnswerInput = Annotated[PlainText, Field(max_length=ANSWER_MAX_CHARS), _DOCUMENTED]
AnswerText = Annotated[PlainText, Field(min_length=1, max_length=ANSWER_MAX_CHARS), _DOCUMENTED]
UploadName = Annotated[PlainText, Field(min_length=1, max_length=200), _DOCUMENTED]


class QuestionAnswer(BaseModel):
    """An answer to a `question_asked`: `decision` (and for "edit" `inputs`) answers an
    approval, `choice` a choice, `text` a text question, `upload` (an uploaded file's name) a
    file request."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "edit", "reject"] | None = None
    inputs: dict[str, AnswerInput] | None = None
    text: AnswerText | None = None
    choice: AnswerText | None = None
    upload: UploadName | None = None


class AnswerQuestionFrame(QuestionAnswer):
    type: Literal["answer_question"]
    question_id: str = Field(pattern=QUESTION_ID_PATTERN)


# --- feedback, regenerate and edit ---------------------------------------------------------

# A reply's id: feedback and regenerate name the reply, not the message it answers. A
# regenerated reply's id ends with its attempt ("r-m-...-2").
REPLY_ID_PATTERN = r"^r-m-[0-9a-f]{32}(-[0-9]{1,6})?$"
USER_MESSAGE_ID_PATTERN = r"^m-[0-9a-f]{32}$"
# Reason tags are short words the page offers ("wrong_agent", "too_long"), not prose.
FEEDBACK_REASON_PATTERN = r"^[a-z0-9_]{1,40}$"
MAX_FEEDBACK_REASONS = 10
MAX_FEEDBACK_COMMENT_CHARS = 2000


class Feedback(BaseModel):
    """A thumbs up or down on a reply, with optional reason tags and a comment."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(pattern=REPLY_ID_PATTERN, description="The reply's id.")
    rating: Literal["up", "down"]
    reasons: list[Annotated[str, Field(pattern=FEEDBACK_REASON_PATTERN)]] = Field(
        default_factory=list, max_length=MAX_FEEDBACK_REASONS
    )
    comment: PlainText | None = Field(None, max_length=MAX_FEEDBACK_COMMENT_CHARS)


class FeedbackFrame(Feedback):
    type: Literal["feedback"]


class RegenerateFrame(_Frame):
    type: Literal["regenerate"]
    # The latest reply of the conversation.
    message_id: str = Field(pattern=REPLY_ID_PATTERN)
    client_message_id: ClientMessageId


class EditMessageFrame(_Frame):
    type: Literal["edit_message"]
    # The user message being edited.
    message_id: str = Field(pattern=USER_MESSAGE_ID_PATTERN)
    message: PlainText
    client_message_id: ClientMessageId


AnyClientFrame = (
    ChatMessageFrame
    | ResumeFrame
    | PingFrame
    | CancelFrame
    | AnswerQuestionFrame
    | FeedbackFrame
    | RegenerateFrame
    | EditMessageFrame
)
ClientFrame = Annotated[AnyClientFrame, Field(discriminator="type")]
CLIENT_FRAME_TYPES = (
    "chat_message",
    "resume",
    "ping",
    "cancel",
    "answer_question",
    "feedback",
    "regenerate",
    "edit_message",
)
_client_frame: TypeAdapter[AnyClientFrame] = TypeAdapter(ClientFrame)


class FrameError(ValueError):
    """A client frame that cannot be used; `code` and the message go back in an `error` frame."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_client_frame(text: str) -> AnyClientFrame:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser's stack (thousands of "[").
        raise FrameError(ErrorCode.INVALID_JSON, "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise FrameError(ErrorCode.INVALID_FRAME, 'A frame must be a JSON object with a "type".')
    if data.get("type") not in CLIENT_FRAME_TYPES:
        raise FrameError(
            ErrorCode.UNKNOWN_TYPE,
            f"Unknown frame type {data.get('type')!r}; expected one of "
            f"{', '.join(CLIENT_FRAME_TYPES)}.",
        )
    try:
        return _client_frame.validate_python(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
        raise FrameError(ErrorCode.INVALID_FRAME, f"{where}: {first['msg']}") from None


def close_reason(message: str, retry_after: int) -> str:
    """A close reason with its retry hint; at most 123 bytes, as WebSocket close frames allow."""
    hint = f" retry_after={retry_after}"
    return message.encode()[: 123 - len(hint)].decode(errors="ignore") + hint
