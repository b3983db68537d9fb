"""WebSocket frames and close codes; `docs/protocol.md` documents every one of them."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

# Close codes, shared with docs/protocol.md.
CLOSE_INVALID_TOKEN = 4001
CLOSE_ORIGIN_NOT_ALLOWED = 4003
CLOSE_INVALID_PILLAR = 4004
CLOSE_ORCHESTRATOR_NOT_AVAILABLE = 4005
CLOSE_LIAISON_NOT_AVAILABLE = 4006
CLOSE_WEBSOCKET_DISABLED = 4010
CLOSE_FLOODING = 1008  # policy violation
CLOSE_FRAME_TOO_BIG = 1009  # sent by the server's WebSocket layer (ws_max_size)
CLOSE_SERVICE_RESTART = 1012  # the edge is shutting down (a deploy): reconnect at once
CLOSE_TRY_AGAIN_LATER = 1013  # Redis or Temporal is unreachable: reconnect after a backoff

EVENT_ID_PATTERN = r"^\d{1,20}-\d{1,20}$"


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatMessageFrame(_Frame):
    type: Literal["chat_message"]
    message: str
    client_message_id: str | None = Field(default=None, min_length=1, max_length=128)


class ResumeFrame(_Frame):
    type: Literal["resume"]
    last_event_id: str = Field(pattern=EVENT_ID_PATTERN)


class PingFrame(_Frame):
    type: Literal["ping"]


class CancelFrame(_Frame):
    type: Literal["cancel"]
    # The reply's id, or the id of the user message it answers.
    message_id: str = Field(min_length=1, max_length=200)


AnyClientFrame = ChatMessageFrame | ResumeFrame | PingFrame | CancelFrame
ClientFrame = Annotated[AnyClientFrame, Field(discriminator="type")]
CLIENT_FRAME_TYPES = ("chat_message", "resume", "ping", "cancel")
_client_frame: TypeAdapter[AnyClientFrame] = TypeAdapter(ClientFrame)


class FrameError(ValueError):
    """A client frame that cannot be used; `code` and the message go back in an `error` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_client_frame(text: str) -> AnyClientFrame:
    try:
        data = json.loads(text)
    except ValueError:
        raise FrameError("invalid_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", 'A frame must be a JSON object with a "type".')
    if data.get("type") not in CLIENT_FRAME_TYPES:
        raise FrameError(
            "unknown_type",
            f"Unknown frame type {data.get('type')!r}; expected one of "
            f"{', '.join(CLIENT_FRAME_TYPES)}.",
        )
    try:
        return _client_frame.validate_python(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
        raise FrameError("invalid_frame", f"{where}: {first['msg']}") from None


def server_frame(type: str, **fields: Any) -> str:
    """A frame that is not a conversation event (no `event_id` of its own)."""
    return json.dumps({"type": type, "event_id": None, **fields}, ensure_ascii=False)
