"""Every frame the server sends, as one discriminated union; `docs/protocol.md` explains them.

Activities publish these events to a conversation's stream and the edge sends the rest
directly; both build the models here and serialise them with `event_body` / `frame`, so the
wire format is written down once. `frontend/src/server-events.schema.json` is this union's JSON
Schema and `frontend/src/server-events.ts` the page's types generated from it (`make events`);
a test fails when the three disagree.

On the wire, fields that are absent rather than null (`duplicate`, `cancelled`, `retry_after`,
...) are left out when unset, exactly as the page expects.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from agents.catalog import AgentType, Pillar
from foundations.errors import ErrorCode


def _unset(value: object) -> bool:
    return value is None or value is False


# A field sent only when it has a value.
def _optional(description: str) -> Any:
    return Field(None, exclude_if=_unset, description=description)


class _Event(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        serialize_by_alias=True,
        validate_by_name=True,
        # The schema describes what the page receives: a field with a default is still sent.
        json_schema_serialization_defaults_required=True,
    )

    type: str
    # The conversation event's id ("<milliseconds>-<n>"); null on frames that are not events.
    # The stream assigns it: an event's stored body leaves it out (see `event_body`).
    event_id: str | None = None
    # Who the frame is from: on the guide's socket a liaison answers after a handoff.
    agent_type: AgentType
    # The pillar of `agent_type`, null for the guide; always derived from it.
    pillar: Pillar | None = None

    @model_validator(mode="before")
    @classmethod
    def _pillar_of_author(cls, data: Any) -> Any:
        if isinstance(data, dict) and "agent_type" in data:
            data = {**data, "pillar": AgentType(data["agent_type"]).pillar}
        return data


class RecordedMessage(BaseModel):
    """A message of a conversation's history, as `conversation_restored` carries it."""

    model_config = ConfigDict(
        # History written by an older version may hold fields this one no longer sends.
        extra="ignore",
        json_schema_serialization_defaults_required=True,
    )

    message_id: str
    # "error": the notice, recorded in the reply's place, that the reply could not be produced.
    role: Literal["user", "assistant", "error"]
    code: ErrorCode | None = _optional("The failure notice's error code.")
    content: str
    timestamp: str
    # Who wrote it.
    agent_type: AgentType
    # The history assigns both when it records the message (see `history_entry`).
    seq: int = 0
    event_id: str = ""
    in_reply_to: str | None = _optional("The user message a reply or failure notice answers.")
    client_message_id: str | None = _optional("The id a user message was sent with.")
    cancelled: bool = _optional("A reply the user stopped part way.")
    # Steps, regenerated replies and edited messages (below the model list).
    steps: list[RecordedStep] | None = _optional("The capability runs inside a reply.")
    regenerates: str | None = _optional("The earlier reply this regenerated reply replaces.")
    edits: str | None = _optional("The earlier user message this edited message replaces.")
    capability: str | None = _optional("The capability the reply's turn ran, if any.")
    provider: str | None = _optional("The reply provider that wrote the reply.")


class SessionCreated(_Event):
    """A new session; keep the token to come back to it."""

    type: Literal["session_created"] = "session_created"
    session_token: str
    session_id: str
    # Unix seconds.
    expires_at: float


class ConversationRestored(_Event):
    """The recorded history; the events after `latest_event_id` complete it."""

    type: Literal["conversation_restored"] = "conversation_restored"
    session_id: str
    messages: list[RecordedMessage]
    # The whole history's length, which may be longer than `messages`.
    message_count: int
    latest_event_id: str


class MessageAccepted(_Event):
    """A user message durably accepted; it will be answered."""

    type: Literal["message_accepted"] = "message_accepted"
    message_id: str
    client_message_id: str | None
    # Absent on the direct answer to a resend (`duplicate: true`).
    message: str | None = _optional("The message's text.")
    timestamp: str | None = _optional("When it was accepted (ISO 8601).")
    # The conversation's sequence number; the history assigns it when it records the message.
    seq: int = 0
    duplicate: bool = _optional("This answers a resend of a message accepted before.")


class ChatChunk(_Event):
    """The next piece of a reply: append `delta` to the reply `message_id`."""

    type: Literal["chat_chunk"] = "chat_chunk"
    message_id: str
    delta: str


class ChatResponse(_Event):
    """The whole reply, recorded; it replaces what the chunks built."""

    type: Literal["chat_response"] = "chat_response"
    message_id: str
    in_reply_to: str
    message: str
    session_id: str
    timestamp: str
    seq: int = 0
    cancelled: bool = _optional("The user stopped the reply; `message` is what had streamed.")
    regenerates: str | None = _optional("The earlier reply this regenerated reply replaces.")


class ReplyRestarted(_Event):
    """The reply is produced again: drop its partial text, new chunks follow."""

    type: Literal["reply_restarted"] = "reply_restarted"
    message_id: str


class Handoff(_Event):
    """The guide passed the message to a liaison, which answers it in the guide's conversation."""

    type: Literal["handoff"] = "handoff"
    from_: AgentType = Field(
        validation_alias=AliasChoices("from", "from_"), serialization_alias="from"
    )
    to: AgentType
    to_pillar: Pillar
    reason: str
    in_reply_to: str


class Error(_Event):
    """Something went wrong; `message` says what to do. The socket stays open."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    client_message_id: str | None = _optional("The message this error concerns, if any.")
    in_reply_to: str | None = _optional("The message whose reply failed or could not stop.")
    retry_after: int | None = _optional("Seconds to wait before trying again, when that helps.")
    # Set when the error is recorded in the history (a failed reply).
    seq: int | None = _optional("The failure notice's sequence number in the history.")


class Gap(_Event):
    """Events after `last_event_id` are gone; a `conversation_restored` follows."""

    type: Literal["gap"] = "gap"
    last_event_id: str
    message: str


class Pong(_Event):
    """The answer to `ping`."""

    type: Literal["pong"] = "pong"


# --- questions an agent asks before it acts -------------------------------------------------

QuestionKind = Literal["approval", "choice", "text", "file"]
QuestionOutcome = Literal["approved", "edited", "rejected", "answered", "expired"]


class QuestionAsked(_Event):
    """The agent waits for the person: approve, edit or reject what it will run (`approval`),
    or give what it lacks (`choice`, `text`, `file`). Answer with `answer_question`."""

    type: Literal["question_asked"] = "question_asked"
    question_id: str
    kind: QuestionKind
    # The user message whose turn waits for the answer.
    in_reply_to: str
    prompt: str
    capability: str | None = _optional("The capability the turn will run.")
    inputs: dict[str, str] | None = _optional(
        "An approval's inputs, by name: what the capability will run with (editable)."
    )
    choices: list[str] | None = _optional("A choice question's options.")
    # ISO 8601: unanswered by then, the question expires and the turn answers without it.
    deadline: str


class QuestionResolved(_Event):
    """A question was answered (the first answer wins) or expired; the turn goes on."""

    type: Literal["question_resolved"] = "question_resolved"
    question_id: str
    outcome: QuestionOutcome
    answer: dict[str, Any] | None = _optional("The answer that counted.")


# --- steps, feedback, regenerate and edit ---------------------------------------------------

StepOutcome = Literal["done", "failed", "cancelled"]
FeedbackRating = Literal["up", "down"]


class RecordedStep(BaseModel):
    """One capability run of a reply, as the reply's history entry keeps it."""

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)

    step_id: str
    name: str
    summary: str
    outcome: StepOutcome
    reason: str | None = _optional("Why the step failed.")
    duration_ms: int


class StepStarted(_Event):
    """A step (a capability run) of the reply `message_id` began."""

    type: Literal["step_started"] = "step_started"
    message_id: str
    step_id: str
    name: str
    # The step's inputs in short.
    summary: str


class StepFinished(_Event):
    """A step of the reply `message_id` ended: done, failed (with `reason`) or cancelled."""

    type: Literal["step_finished"] = "step_finished"
    message_id: str
    step_id: str
    outcome: StepOutcome
    reason: str | None = _optional("Why the step failed.")
    duration_ms: int


class FeedbackRecorded(_Event):
    """The user's rating of the reply `message_id` is stored (the latest one counts)."""

    type: Literal["feedback_recorded"] = "feedback_recorded"
    message_id: str
    rating: FeedbackRating


class MessageEdited(_Event):
    """The user message `message_id` was edited: `new_message_id` replaces it and is answered."""

    type: Literal["message_edited"] = "message_edited"
    message_id: str
    new_message_id: str
    message: str


AnyServerEvent = (
    SessionCreated
    | ConversationRestored
    | MessageAccepted
    | ChatChunk
    | ChatResponse
    | ReplyRestarted
    | Handoff
    | Error
    | Gap
    | Pong
    | QuestionAsked
    | QuestionResolved
    | StepStarted
    | StepFinished
    | FeedbackRecorded
    | MessageEdited
)
ServerEvent = Annotated[AnyServerEvent, Field(discriminator="type")]
_server_event: TypeAdapter[AnyServerEvent] = TypeAdapter(ServerEvent)
_messages: TypeAdapter[list[RecordedMessage]] = TypeAdapter(list[RecordedMessage])

# Assigned by the conversation's stream and history as they record: never in a stored body.
_ASSIGNED = {"event_id", "seq"}


def event_body(event: AnyServerEvent) -> str:
    """The event as the stream stores it: the stream adds `event_id` (and, for a recorded
    message, `seq`) when it relays it (see `foundations.communication.Event.frame`)."""
    return event.model_dump_json(exclude=_ASSIGNED)


def history_entry(message: RecordedMessage) -> str:
    """The message as the history stores it; the history adds `seq` and `event_id`."""
    return message.model_dump_json(exclude=_ASSIGNED)


def frame(event: AnyServerEvent) -> str:
    """A frame sent to a socket directly, not through the stream."""
    return event.model_dump_json()


def parse(text: str | bytes) -> AnyServerEvent:
    """A server event from its JSON (a frame, or a stored body)."""
    return _server_event.validate_json(text)


def recorded_messages(messages: list[dict[str, Any]]) -> list[RecordedMessage]:
    """History entries as read from storage."""
    return _messages.validate_python(messages)


def event_types() -> list[str]:
    """Every server event's `type`, in the order of the union."""
    return [model.model_fields["type"].default for model in AnyServerEvent.__args__]


def json_schema() -> dict[str, Any]:
    """The union's JSON Schema, as the page receives the frames."""
    schema = _server_event.json_schema(mode="serialization")
    schema["title"] = "ServerEvent"
    for model in schema["$defs"].values():
        _tidy(model)
    return schema


def _tidy(model: dict[str, Any]) -> None:
    """Say what the wire holds: a field left out when unset is optional but never null, and
    properties need no titles (which would each become a type of their own in TypeScript)."""
    required = set(model.get("required", ()))
    for name, field in model.get("properties", {}).items():
        field.pop("title", None)
        field.pop("default", None)
        if name not in required:
            branches = [branch for branch in field.pop("anyOf", ()) if branch != {"type": "null"}]
            if len(branches) == 1:
                field.update(branches[0])
            elif branches:
                field["anyOf"] = branches
        if "$ref" in field:
            field.pop("description", None)  # would make a second, described copy of the type


if __name__ == "__main__":
    # CLI: the schema that frontend/src/server-events.schema.json holds.
    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")
