"""What the chat session workflow is started with, sent and answers: its payload types and ids.

Every type here travels through Temporal as JSON: in workflow histories, update results and the
input of the next run after continue-as-new. A field added later gets a default, so that
payloads written by older code still decode.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import ClassVar

from temporalio import workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.exceptions import ApplicationError

from agents.catalog import AgentType
from foundations.errors import EMPTY_MESSAGE, ErrorCode, message_too_long

with workflow.unsafe.imports_passed_through():
    from activities.conductor import RouteDecision

from workflows.question_payloads import OpenQuestion, Resolution

# No payload this workflow writes (an activity's input or result, an update, the input of the
# next run) may exceed this, whatever the user sends; Temporal terminates a workflow at 2 MB.
# What fills the largest one, the reply activity's input: the message (8,000 characters, 12
# bytes each at worst: 94 KiB) and a capability summary (CAPABILITY_SUMMARY_MAX_BYTES, 48 KiB).
# A reply is cut at REPLY_MAX_BYTES (96 KiB). Everything longer, earlier turns and the texts of
# pending turns, stays in Redis and is named by id or sequence number.
PAYLOAD_BUDGET_BYTES = 256 * 1024
# Turns waiting per conversation: each one's entry travels through continue-as-new.
MAX_PENDING_TURNS = 100
# Derives message ids from client message ids, so one client message has one id forever.
_MESSAGE_NAMESPACE = uuid.UUID("6f1d1c52-2a55-4d47-9a39-5b0f3c1e8a11")

SESSION_ID_ATTRIBUTE = SearchAttributeKey.for_keyword("ChatSessionId")
USER_ID_ATTRIBUTE = SearchAttributeKey.for_keyword("ChatUserId")
AGENT_TYPES_ATTRIBUTE = SearchAttributeKey.for_keyword_list("ChatAgentTypes")


def session_workflow_id(session_id: str) -> str:
    return f"chat-session-{session_id}"


def session_search_attributes(session_id: str, user_id: str) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(SESSION_ID_ATTRIBUTE, session_id),
            SearchAttributePair(USER_ID_ATTRIBUTE, user_id),
        ]
    )


@dataclass
class Turn:
    """A user message waiting for its reply."""

    message_id: str
    seq: int
    # Empty once the turn has travelled through continue-as-new: it is read from the history.
    message: str = ""
    # The stream id of the message's event: when it was recorded.
    event_id: str = ""
    # Who answers, when decided while the message was admitted (workflows/admission.py).
    decision: RouteDecision | None = None
    # Set when the turn comes back from waiting for the person (workflows/questions.py).
    resolution: Resolution | None = None
    # A regenerated reply: its own id, and the id of the reply it replaces.
    reply_id: str = ""
    regenerates: str = ""


@dataclass
class ConversationState:
    turns_completed: int = 0
    pending: list[Turn] = field(default_factory=list)
    last_activity: str = ""


@dataclass
class SubmitMessageInput:
    # Which of the session's conversations the message is sent in.
    conversation: AgentType
    message: str
    client_message_id: str | None = None

    # Read from updates that earlier versions accepted (foundations/payload_converter.py).
    RENAMED_FIELDS: ClassVar[dict[str, str]] = {"agent_type": "conversation"}

    def check(self, *, pending_turns: int, max_chars: int) -> None:
        """Raise what makes this message unacceptable in a conversation with `pending_turns`."""
        if not isinstance(self.conversation, AgentType):
            raise ApplicationError(
                f"Unknown agent type {self.conversation!r}.", type=ErrorCode.UNKNOWN_AGENT
            )
        if not self.message.strip():
            raise ApplicationError(EMPTY_MESSAGE, type=ErrorCode.EMPTY_MESSAGE)
        if pending_turns >= MAX_PENDING_TURNS:
            raise ApplicationError(
                f"{MAX_PENDING_TURNS} messages are still waiting for their replies; "
                "send this one when some have been answered.",
                type=ErrorCode.TOO_MANY_PENDING_MESSAGES,
            )
        if len(self.message) > max_chars:
            raise ApplicationError(
                message_too_long(len(self.message), max_chars),
                type=ErrorCode.MESSAGE_TOO_LONG,
            )

    def derived_message_id(self, session_id: str) -> str | None:
        """The id derived from the client's message id; None when the client sent none."""
        if not self.client_message_id:
            return None
        name = f"{session_id}/{self.conversation.value}/{self.client_message_id}"
        return "m-" + uuid.uuid5(_MESSAGE_NAMESPACE, name).hex


@dataclass
class SubmitMessageResult:
    message_id: str
    # The message's position in its conversation, from 1.
    seq: int
    event_id: str
    duplicate: bool = False


@dataclass
class RegenerateInput:
    """Answer the user message again: a new reply replaces `reply_id`, the latest one."""

    conversation: AgentType
    reply_id: str
    client_message_id: str
    # The user message the reply answers, as recorded (the edge looked it up).
    seq: int
    event_id: str = ""
    # False when a newer reply already replaced `reply_id`: only a duplicate is answered.
    latest: bool = True
    # The message's text, admitted again (rate limits and policy count a regenerate too).
    message: str = ""


@dataclass
class EditMessageInput:
    """Replace the user message `edits` with `message`: its reply stops, the new one is answered."""

    conversation: AgentType
    edits: str
    message: str
    client_message_id: str

    def submitted(self) -> SubmitMessageInput:
        return SubmitMessageInput(self.conversation, self.message, self.client_message_id)


@dataclass
class CancelReplyInput:
    conversation: AgentType
    # The reply's id, or the id of the user message it answers.
    message_id: str

    # Read from signals that earlier versions received (foundations/payload_converter.py).
    RENAMED_FIELDS: ClassVar[dict[str, str]] = {"agent_type": "conversation"}


@dataclass
class ChatSessionInput:
    session_id: str
    user_id: str
    max_message_chars: int = 8000
    idle_timeout_seconds: float = 30 * 60
    max_turns_per_run: int = 500
    # A closed session's messages and streams are gone this long after its last turn: open
    # pages still get the final replies, nothing stays for the session's full lifetime.
    closed_retention_seconds: int = 600
    # Admit, record and route in one local activity (workflows/admission.py), and let the
    # reply activity record the reply. Off in runs begun before it existed, and wherever a
    # worker without it may still take the session over.
    lean_turn: bool = False
    # Capability turns may ask the person first (workflows/questions.py); off in runs begun
    # before questions existed, and wherever a worker without them may take the session over.
    ask_before_acting: bool = False
    # An unanswered question expires after this long.
    question_timeout_seconds: float = 7 * 24 * 3600
    # Show each capability run as a step of its reply (workflows/turn_steps.py). Off in runs
    # begun before steps existed, and wherever a worker without them may take the session over.
    visible_steps: bool = False
    # Carried over continue-as-new.
    conversations: dict[AgentType, ConversationState] = field(default_factory=dict)
    recent_acks: dict[str, SubmitMessageResult] = field(default_factory=dict)
    open_questions: list[OpenQuestion] = field(default_factory=list)

    def next_run(
        self,
        conversations: dict[AgentType, ConversationState],
        recent_acks: dict[str, SubmitMessageResult],
    ) -> ChatSessionInput:
        """The input of the run after continue-as-new: these settings and the state carried."""
        return dataclasses.replace(
            self,
            # Texts stay in Redis: the next run reads each one when its turn comes.
            conversations={
                conversation: dataclasses.replace(
                    state,
                    pending=[
                        Turn(
                            turn.message_id,
                            turn.seq,
                            event_id=turn.event_id,
                            resolution=turn.resolution,
                            reply_id=turn.reply_id,
                            regenerates=turn.regenerates,
                        )
                        for turn in state.pending
                    ],
                )
                for conversation, state in conversations.items()
            },
            recent_acks=recent_acks,
        )


@dataclass
class ConversationStatus:
    conversation: AgentType
    turns_completed: int
    pending_turns: int
    last_activity: str


@dataclass
class SessionStatus:
    session_id: str
    user_id: str
    closed: bool
    turns_this_run: int
    conversations: list[ConversationStatus]
