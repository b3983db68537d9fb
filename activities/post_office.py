"""Post Office: records messages in the conversation history and publishes their events."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from temporalio import activity
from temporalio.exceptions import ApplicationError

from agents.catalog import AgentType
from foundations import metrics
from foundations.communication import CommunicationFoundation, Conversation
from foundations.errors import ErrorCode
from foundations.gateway import Realm
from foundations.server_events import (
    ChatResponse,
    Error,
    Handoff,
    MessageAccepted,
    MessageEdited,
    RecordedMessage,
    RecordedStep,
    StepFinished,
    StepStarted,
)


@dataclass
class RecordUserMessageInput:
    session_id: str
    conversation: AgentType
    message_id: str
    content: str
    timestamp: str
    client_message_id: str | None = None
    # Identifies this very write, so that a retry recognises the record as its own and a
    # duplicate from another run does not.
    owner: str = ""
    # Edit-and-resend: the user message this one replaces (`message_edited` tells the tabs).
    edits: str | None = None


@dataclass
class RecordReplyInput:
    session_id: str
    # The conversation the reply belongs to ...
    conversation: AgentType
    message_id: str
    in_reply_to: str
    content: str
    timestamp: str
    # ... and the agent that wrote it (a liaison answering in the guide's conversation).
    author: AgentType
    # The user stopped it; `content` is the part that had streamed.
    cancelled: bool = False
    # The stream id of the user message: when it was recorded, for the turn's duration.
    in_reply_to_event_id: str = ""
    # The turn's capability runs, the reply it regenerates, and what wrote it (for feedback).
    steps: list[StepRecord] | None = None
    regenerates: str | None = None
    capability: str | None = None
    provider: str | None = None


@dataclass
class StepRecord:
    """A finished step of a reply: one capability run (`RecordedStep` in the history)."""

    step_id: str
    name: str
    summary: str
    # "done", "failed" or "cancelled".
    outcome: str
    duration_ms: int
    reason: str | None = None


@dataclass
class PublishStepInput:
    """A step of the reply `message_id` started (no `outcome` yet) or finished."""

    session_id: str
    conversation: AgentType
    # The agent writing the reply.
    author: AgentType
    message_id: str
    step_id: str
    name: str = ""
    summary: str = ""
    outcome: str | None = None
    reason: str | None = None
    duration_ms: int = 0


@dataclass
class HandoffInput:
    session_id: str
    # The guide's conversation, where the liaison will answer.
    conversation: AgentType
    # The liaison that takes the message over.
    to: AgentType
    reason: str
    in_reply_to: str


@dataclass
class TurnFailedInput:
    session_id: str
    conversation: AgentType
    in_reply_to: str
    code: ErrorCode
    message: str
    timestamp: str = ""
    # The reply whose place the notice takes, when not the first reply (a regenerated one).
    reply_id: str | None = None


@dataclass
class ReadMessageInput:
    session_id: str
    conversation: AgentType
    seq: int


@dataclass
class ForgetSessionInput:
    session_id: str
    within_seconds: int


@dataclass
class RecordResult:
    event_id: str
    seq: int
    # False when this message id had been recorded before by another writer.
    first_time: bool
    # For a message recorded before: whether its reply (or the notice that it failed) is
    # recorded too. A message first written by a run that was lost may still await its answer.
    answered: bool = True


def reply_id(message_id: str) -> str:
    """The id of the reply to a user message, and of the notice that it failed."""
    return f"r-{message_id}"


def answered_message_id(reply: str) -> str:
    """The user message a reply id answers: "r-m-<hex>" and regenerated "r-m-<hex>-<n>"."""
    message_id = reply.removeprefix("r-")
    head, _, attempt = message_id.rpartition("-")
    return head if attempt.isdigit() and head.startswith("m-") else message_id


def regenerated_reply_id(reply: str) -> str:
    """The id of the reply that regenerates `reply`: its attempt number, plus one."""
    message_id = answered_message_id(reply)
    attempt = reply.removeprefix(reply_id(message_id)).removeprefix("-")
    return f"{reply_id(message_id)}-{int(attempt or 1) + 1}"


@dataclass(frozen=True)
class PostOfficeNeeds:
    """What the Post Office takes from the Platform Gateway."""

    communication_foundation: CommunicationFoundation


class PostOffice:
    """Owns message history persistence and event publishing, through the Communication Foundation."""

    REALM = Realm.SMART_CITY
    USES = PostOfficeNeeds

    def __init__(self, communication: CommunicationFoundation) -> None:
        self._communication = communication

    @activity.defn
    async def record_user_message(self, input: RecordUserMessageInput) -> RecordResult:
        """Persist the user's message and tell every socket of the conversation it was accepted."""
        conversation = Conversation(input.session_id, input.conversation)
        recorded = await self._communication.record(
            conversation,
            input.message_id,
            RecordedMessage(
                message_id=input.message_id,
                role="user",
                content=input.content,
                timestamp=input.timestamp,
                agent_type=input.conversation,
                client_message_id=input.client_message_id,
                edits=input.edits,
            ),
            MessageAccepted(
                agent_type=input.conversation,
                message_id=input.message_id,
                client_message_id=input.client_message_id,
                message=input.content,
                timestamp=input.timestamp,
            ),
            owner=input.owner,
        )
        first_time = recorded.owner == input.owner
        if first_time and input.edits:
            await self._communication.publish(
                conversation,
                MessageEdited(
                    agent_type=input.conversation,
                    message_id=input.edits,
                    new_message_id=input.message_id,
                    message=input.content,
                ),
            )
        answered = first_time or await self._communication.is_recorded(
            conversation, reply_id(input.message_id)
        )
        return RecordResult(recorded.event_id, recorded.seq, first_time, answered)

    @activity.defn
    async def record_reply(self, input: RecordReplyInput) -> RecordResult:
        """Persist the agent's whole reply and publish it as `chat_response`."""
        author = input.author
        conversation = Conversation(input.session_id, input.conversation)
        recorded = await self._communication.record(
            conversation,
            input.message_id,
            RecordedMessage(
                message_id=input.message_id,
                role="assistant",
                content=input.content,
                timestamp=input.timestamp,
                agent_type=author,
                in_reply_to=input.in_reply_to,
                cancelled=input.cancelled,
                steps=[RecordedStep(**dataclasses.asdict(step)) for step in input.steps]
                if input.steps
                else None,
                regenerates=input.regenerates,
                capability=input.capability,
                provider=input.provider,
            ),
            ChatResponse(
                agent_type=author,
                message_id=input.message_id,
                in_reply_to=input.in_reply_to,
                message=input.content,
                session_id=input.session_id,
                timestamp=input.timestamp,
                cancelled=input.cancelled,
                regenerates=input.regenerates,
            ),
        )
        metrics.turn_ended(author.value, input.in_reply_to_event_id)
        return RecordResult(recorded.event_id, recorded.seq, first_time=True)

    async def all_answered(
        self, session_id: str, conversation: AgentType, message_ids: list[str]
    ) -> bool:
        """Whether each of these messages has its reply (or failure notice) recorded."""
        where = Conversation(session_id, conversation)
        for message_id in message_ids:
            if not await self._communication.is_recorded(where, reply_id(message_id)):
                return False
        return True

    @activity.defn
    async def read_message(self, input: ReadMessageInput) -> str:
        """The text of a recorded message; empty if the history no longer holds it."""
        conversation = Conversation(input.session_id, input.conversation)
        found = await self._communication.messages(conversation, [input.seq])
        return found.get(input.seq, "")

    @activity.defn
    async def forget_session(self, input: ForgetSessionInput) -> None:
        """Let a closed session's histories and streams expire soon (after its last write)."""
        await self._communication.forget_session(input.session_id, input.within_seconds)

    @activity.defn
    async def announce_handoff(self, input: HandoffInput) -> str:
        """Tell the guide's sockets that a liaison takes this message over."""
        pillar = input.to.pillar
        if pillar is None:
            raise ApplicationError(f"{input.to} serves no pillar", non_retryable=True)
        return await self._communication.publish(
            Conversation(input.session_id, input.conversation),
            Handoff(
                agent_type=input.conversation,
                from_=input.conversation,
                to=input.to,
                to_pillar=pillar,
                reason=input.reason,
                in_reply_to=input.in_reply_to,
            ),
        )

    @activity.defn
    async def publish_step(self, input: PublishStepInput) -> str:
        """Tell every socket of the conversation that a step of a reply started or ended."""
        event: StepStarted | StepFinished = (
            StepStarted(
                agent_type=input.author,
                message_id=input.message_id,
                step_id=input.step_id,
                name=input.name,
                summary=input.summary,
            )
            if input.outcome is None
            else StepFinished(
                agent_type=input.author,
                message_id=input.message_id,
                step_id=input.step_id,
                outcome=input.outcome,  # type: ignore[arg-type]
                reason=input.reason,
                duration_ms=input.duration_ms,
            )
        )
        return await self._communication.publish(
            Conversation(input.session_id, input.conversation), event
        )

    @activity.defn
    async def report_turn_failure(self, input: TurnFailedInput) -> str:
        """Record, in the reply's place, that a reply could not be produced, and tell the sockets.

        Recorded rather than only published: a page loaded later shows the failure too, and a
        resend of the message knows it was answered.
        """
        notice_id = input.reply_id or reply_id(input.in_reply_to)
        recorded = await self._communication.record(
            Conversation(input.session_id, input.conversation),
            notice_id,
            RecordedMessage(
                message_id=notice_id,
                role="error",
                code=input.code,
                content=input.message,
                timestamp=input.timestamp,
                agent_type=input.conversation,
                in_reply_to=input.in_reply_to,
            ),
            Error(
                agent_type=input.conversation,
                code=input.code,
                message=input.message,
                in_reply_to=input.in_reply_to,
            ),
        )
        return recorded.event_id
