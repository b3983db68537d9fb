"""One durable workflow per chat session: admits messages, runs turns in order, keeps state small.

Messages enter through the `submit_message` update, which returns as soon as the message is
admitted and recorded; the turn (route -> reply -> record) runs afterwards in the conversation's
own task, so turns of one conversation run strictly in order while conversations run side by side.
Message texts live in Redis, not in workflow state: continue-as-new carries only counters,
pending turns and recent dedupe ids.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.agent_replies import AgentReplies, GeneratedReply, GenerateReplyInput
    from activities.conductor import Conductor, RouteInput
    from activities.orchestration import Orchestration, RunCapabilityInput
    from activities.post_office import (
        ForgetSessionInput,
        HandoffInput,
        PostOffice,
        ReadMessageInput,
        RecordReplyInput,
        RecordUserMessageInput,
        TurnFailedInput,
        reply_id,
    )
    from activities.traffic_cop import AdmitInput, TrafficCop
    from agents.capabilities import CapabilityRequest
    from agents.catalog import AgentType
    from agents.replies import CapabilityOutcome
    from foundations import tracing
    from foundations.errors import EMPTY_MESSAGE, ErrorCode, message_too_long

# Local activities: short Redis round trips, run inside the workflow task.
LOCAL_STEP_TIMEOUT = timedelta(seconds=5)
# Admission runs while the sender waits for its ack: fail fast and let the client resend.
ADMISSION_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100))
# Steps of an accepted turn ride out a Redis restart before the turn is given up.
TURN_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=20,
)
# The agent reply: a regular activity, so that updates are not held back while it runs.
REPLY_TIMEOUT = timedelta(minutes=5)
# The reply heartbeats at least every 2 s (activities/agent_replies.py), so a worker that died
# mid-reply is noticed within 6 s and the reply restarts on another within about 7 s.
REPLY_HEARTBEAT_TIMEOUT = timedelta(seconds=6)
REPLY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
    non_retryable_error_types=["ReplyRejected"],
)
# An orchestrator capability: parsing a 10 MB upload takes seconds, not minutes.
CAPABILITY_TIMEOUT = timedelta(minutes=1)
CAPABILITY_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))
# Client message ids remembered in workflow state for instant duplicate acks.
RECENT_CLIENT_IDS = 500
# No payload this workflow writes (an activity's input or result, an update, the input of the
# next run) may exceed this, whatever the user sends; Temporal terminates a workflow at 2 MB.
# What fills the largest one, the reply activity's input: the message (8,000 characters, 12
# bytes each at worst: 94 KiB) and a capability summary (CAPABILITY_SUMMARY_MAX_BYTES, 48 KiB).
# A reply is cut at REPLY_MAX_BYTES (96 KiB). Everything longer, earlier turns and the texts of
# pending turns, stays in Redis and is named by id or sequence number.
PAYLOAD_BUDGET_BYTES = 256 * 1024
# Turns waiting per conversation: each one's entry travels through continue-as-new.
MAX_PENDING_TURNS = 100

SESSION_ID_ATTRIBUTE = SearchAttributeKey.for_keyword("ChatSessionId")
USER_ID_ATTRIBUTE = SearchAttributeKey.for_keyword("ChatUserId")
AGENT_TYPES_ATTRIBUTE = SearchAttributeKey.for_keyword_list("ChatAgentTypes")
# Derives message ids from client message ids, so one client message has one id forever.
_MESSAGE_NAMESPACE = uuid.UUID("6f1d1c52-2a55-4d47-9a39-5b0f3c1e8a11")


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


@dataclass
class ConversationState:
    turns_completed: int = 0
    pending: list[Turn] = field(default_factory=list)
    last_activity: str = ""


@dataclass
class SubmitMessageInput:
    agent_type: AgentType
    message: str
    client_message_id: str | None = None


@dataclass
class SubmitMessageResult:
    message_id: str
    # The message's position in its conversation, from 1.
    seq: int
    event_id: str
    duplicate: bool = False


@dataclass
class CancelReplyInput:
    agent_type: AgentType
    # The reply's id, or the id of the user message it answers.
    message_id: str


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
    # Carried over continue-as-new.
    conversations: dict[AgentType, ConversationState] = field(default_factory=dict)
    recent_acks: dict[str, SubmitMessageResult] = field(default_factory=dict)


@dataclass
class ConversationStatus:
    agent_type: AgentType
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


@workflow.defn
class ChatSessionWorkflow:
    """A user's chat session with the guide and the pillar liaisons."""

    @workflow.init
    def __init__(self, input: ChatSessionInput) -> None:
        self._input = input
        self._conversations: dict[AgentType, ConversationState] = dict(input.conversations)
        self._recent_acks: dict[str, SubmitMessageResult] = dict(input.recent_acks)
        self._locks: dict[AgentType, asyncio.Lock] = {}
        self._running: dict[AgentType, asyncio.Task[None]] = {}
        self._closed = False
        self._draining = False
        self._turns_this_run = 0
        self._last_message_at = workflow.now()
        self._failure: BaseException | None = None
        # The reply streaming in each conversation, by the user message it answers.
        self._replying: dict[AgentType, tuple[str, workflow.ActivityHandle[GeneratedReply]]] = {}
        self._cancelled: set[str] = set()
        # Each accepted message's trace, so its turn joins it even when it runs in the task of
        # an earlier message's turn. Not carried over continue-as-new: traces are best effort.
        self._turn_traces: dict[str, tracing.Context] = {}

    @workflow.run
    async def run(self, input: ChatSessionInput) -> None:
        workflow.upsert_memo({"session_id": input.session_id, "user_id": input.user_id})
        for agent_type, conversation in self._conversations.items():
            if conversation.pending:
                self._start_turns(agent_type)
        self._show_details()
        idle_timeout = timedelta(seconds=input.idle_timeout_seconds)
        wait = idle_timeout
        # One timer per idle period, not one per message: a message only moves the deadline.
        while True:
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._closed or self._failure is not None or self._should_continue_as_new()
                    ),
                    timeout=wait,
                    timeout_summary="idle",
                )
            except TimeoutError:
                idle_for = workflow.now() - self._last_message_at
                if idle_for >= idle_timeout and not self._running:
                    workflow.logger.info("session idle; completing")
                    break
                # Still replying after the idle deadline: look again one idle period later.
                wait = idle_timeout - idle_for if idle_for < idle_timeout else idle_timeout
                continue
            if self._failure is not None:
                raise self._failure
            if self._closed:
                break
            await self._continue_as_new()
        await workflow.wait_condition(
            lambda: not self._running and workflow.all_handlers_finished()
        )
        if self._closed and workflow.patched("forget-closed-session"):
            await workflow.execute_local_activity_method(
                PostOffice.forget_session,
                ForgetSessionInput(input.session_id, input.closed_retention_seconds),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )

    @workflow.update
    async def submit_message(self, input: SubmitMessageInput) -> SubmitMessageResult:
        """Admit and record a user message; its reply streams to the conversation's sockets."""
        dedupe_key = f"{input.agent_type.value}:{input.client_message_id}"
        lock = self._locks.setdefault(input.agent_type, asyncio.Lock())
        async with lock:
            # Remembered by message id (a fixed size), and by the client's id in older runs.
            original = (
                self._recent_acks.get(self._message_id(input)) or self._recent_acks.get(dedupe_key)
                if input.client_message_id
                else None
            )
            if original is not None:
                return SubmitMessageResult(
                    original.message_id, original.seq, original.event_id, duplicate=True
                )
            admission = await workflow.execute_local_activity_method(
                TrafficCop.admit_message,
                AdmitInput(
                    self._input.session_id, self._input.user_id, input.agent_type, input.message
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=ADMISSION_RETRY,
            )
            if not admission.admitted:
                raise ApplicationError(admission.reason, type=admission.code)
            message_id = self._message_id(input)
            now = workflow.now().isoformat()
            recorded = await workflow.execute_local_activity_method(
                PostOffice.record_user_message,
                RecordUserMessageInput(
                    session_id=self._input.session_id,
                    agent_type=input.agent_type,
                    message_id=message_id,
                    content=input.message,
                    timestamp=now,
                    client_message_id=input.client_message_id,
                    owner=f"{workflow.info().run_id}:{workflow.current_update_info().id}",  # type: ignore[union-attr]
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=ADMISSION_RETRY,
            )
            result = SubmitMessageResult(
                message_id, recorded.seq, recorded.event_id, duplicate=not recorded.first_time
            )
            if input.client_message_id:
                self._remember(message_id, result)
            # A message first recorded by a run that was lost (terminated, reset) was never
            # answered: this resend gets it answered, unless the turn is already in hand here.
            if result.duplicate and (recorded.answered or self._is_pending(message_id)):
                return result
            conversation = self._conversation(input.agent_type)
            conversation.pending.append(
                Turn(message_id, recorded.seq, input.message, recorded.event_id)
            )
            self._turn_traces[message_id] = tracing.current_context()
            conversation.last_activity = now
            self._last_message_at = workflow.now()
            self._start_turns(input.agent_type)
            return result

    @submit_message.validator
    def validate_submit_message(self, input: SubmitMessageInput) -> None:
        """Reject, before anything is written to history, what can never be accepted."""
        if self._closed:
            raise ApplicationError("This chat session is closed.", type=ErrorCode.SESSION_CLOSED)
        if not isinstance(input.agent_type, AgentType):
            raise ApplicationError(
                f"Unknown agent type {input.agent_type!r}.", type=ErrorCode.UNKNOWN_AGENT
            )
        if not input.message.strip():
            raise ApplicationError(EMPTY_MESSAGE, type=ErrorCode.EMPTY_MESSAGE)
        conversation = self._conversations.get(input.agent_type)
        if conversation is not None and len(conversation.pending) >= MAX_PENDING_TURNS:
            raise ApplicationError(
                f"{MAX_PENDING_TURNS} messages are still waiting for their replies; "
                "send this one when some have been answered.",
                type=ErrorCode.TOO_MANY_PENDING_MESSAGES,
            )
        if len(input.message) > self._input.max_message_chars:
            raise ApplicationError(
                message_too_long(len(input.message), self._input.max_message_chars),
                type=ErrorCode.MESSAGE_TOO_LONG,
            )

    @workflow.query
    def get_status(self) -> SessionStatus:
        """Conversations, turn counts and last activity of this session."""
        return SessionStatus(
            session_id=self._input.session_id,
            user_id=self._input.user_id,
            closed=self._closed,
            turns_this_run=self._turns_this_run,
            conversations=[
                ConversationStatus(
                    agent_type,
                    conversation.turns_completed,
                    len(conversation.pending),
                    conversation.last_activity,
                )
                for agent_type, conversation in self._conversations.items()
            ],
        )

    @workflow.signal
    def close_session(self) -> None:
        """Refuse new messages, finish the turns already accepted, then complete."""
        self._closed = True

    @workflow.signal
    def cancel_reply(self, input: CancelReplyInput) -> None:
        """Stop a reply: the streaming one is cut short, a queued one is never started."""
        message_id = input.message_id.removeprefix("r-")
        replying = self._replying.get(input.agent_type)
        if replying is not None and replying[0] == message_id:
            replying[1].cancel()
            return
        conversation = self._conversations.get(input.agent_type)
        if conversation is not None and any(
            t.message_id == message_id for t in conversation.pending
        ):
            self._cancelled.add(message_id)

    # --- turns ---------------------------------------------------------------------------

    def _start_turns(self, agent_type: AgentType) -> None:
        if agent_type in self._running or self._draining or self._should_continue_as_new():
            return  # the pending turns travel to the next run
        self._running[agent_type] = asyncio.create_task(self._run_turns(agent_type))

    async def _run_turns(self, agent_type: AgentType) -> None:
        conversation = self._conversations[agent_type]
        try:
            while (
                conversation.pending and not self._draining and not self._should_continue_as_new()
            ):
                turn = conversation.pending[0]
                with tracing.resumed(self._turn_traces.pop(turn.message_id, None)):
                    await self._run_turn(agent_type, turn)
                conversation.pending.pop(0)
                conversation.turns_completed += 1
                conversation.last_activity = workflow.now().isoformat()
                self._turns_this_run += 1
        except BaseException as failure:  # surfaced by the main loop, which fails the task
            self._failure = failure
        finally:
            del self._running[agent_type]
            self._show_details()

    async def _run_turn(self, conversation: AgentType, turn: Turn) -> None:
        """Route, reply, record. A failed step ends this turn with an error, not the session."""
        session_id = self._input.session_id
        self._show_details()
        try:
            if not turn.message:
                turn.message = await workflow.execute_local_activity_method(
                    PostOffice.read_message,
                    ReadMessageInput(session_id, conversation, turn.seq),
                    start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                    retry_policy=TURN_STEP_RETRY,
                )
            decision = await workflow.execute_local_activity_method(
                Conductor.route,
                RouteInput(session_id, conversation, turn.message, turn.seq),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )
            if decision.handoff_reason is not None:
                await workflow.execute_local_activity_method(
                    PostOffice.announce_handoff,
                    HandoffInput(
                        session_id,
                        conversation,
                        decision.agent_type,
                        decision.handoff_reason,
                        turn.message_id,
                    ),
                    start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                    retry_policy=TURN_STEP_RETRY,
                )
            outcome = None
            if decision.capability is not None:
                outcome = await self._run_capability(decision.capability, conversation)
            reply = await self._generate_reply(conversation, turn, decision.agent_type, outcome)
            await workflow.execute_local_activity_method(
                PostOffice.record_reply,
                RecordReplyInput(
                    session_id=session_id,
                    agent_type=conversation,
                    message_id=reply.message_id,
                    in_reply_to=turn.message_id,
                    content=reply.content,
                    timestamp=workflow.now().isoformat(),
                    author=decision.agent_type,
                    cancelled=reply.cancelled,
                    in_reply_to_event_id=turn.event_id,
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("turn for %s failed: %s", turn.message_id, error.cause)
            await self._report_turn_failure(conversation, turn, error.cause)

    async def _run_capability(
        self, request: CapabilityRequest, conversation: AgentType
    ) -> CapabilityOutcome:
        """Run the liaison's capability; a failure becomes something the reply can say."""
        try:
            return await workflow.execute_activity_method(
                Orchestration.run_capability,
                RunCapabilityInput(self._input.session_id, request, conversation),
                start_to_close_timeout=CAPABILITY_TIMEOUT,
                retry_policy=CAPABILITY_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("capability %s failed: %s", request.capability, error.cause)
            return CapabilityOutcome(
                request.capability.value,
                ok=False,
                summary="I could not run that just now; ask me again in a moment.",
            )

    async def _generate_reply(
        self,
        conversation: AgentType,
        turn: Turn,
        agent_type: AgentType,
        capability: CapabilityOutcome | None,
    ) -> GeneratedReply:
        reply = reply_id(turn.message_id)
        if turn.message_id in self._cancelled:
            self._cancelled.discard(turn.message_id)
            return GeneratedReply(reply, "", cancelled=True)
        handle = workflow.start_activity_method(
            AgentReplies.generate_reply,
            GenerateReplyInput(
                session_id=self._input.session_id,
                conversation=conversation,
                agent_type=agent_type,
                message_id=reply,
                in_reply_to=turn.message_id,
                in_reply_to_seq=turn.seq,
                message=turn.message,
                capability=capability,
                in_reply_to_event_id=turn.event_id,
            ),
            start_to_close_timeout=REPLY_TIMEOUT,
            heartbeat_timeout=REPLY_HEARTBEAT_TIMEOUT,
            retry_policy=REPLY_RETRY,
            # A stopped reply returns what it had streamed; wait for it.
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        self._replying[conversation] = (turn.message_id, handle)
        try:
            return await handle
        except ActivityError as error:
            if isinstance(error.cause, CancelledError):  # stopped before it started streaming
                return GeneratedReply(reply, "", cancelled=True)
            raise
        finally:
            del self._replying[conversation]

    async def _report_turn_failure(
        self, conversation: AgentType, turn: Turn, cause: BaseException | None
    ) -> None:
        try:
            await workflow.execute_local_activity_method(
                PostOffice.report_turn_failure,
                TurnFailedInput(
                    session_id=self._input.session_id,
                    agent_type=conversation,
                    in_reply_to=turn.message_id,
                    code=ErrorCode.REPLY_FAILED,
                    message=_user_facing(cause),
                    timestamp=workflow.now().isoformat(),
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )
        except ActivityError as error:
            # The notice is lost, the session is not: the user's message stays recorded.
            workflow.logger.error("could not report failed turn %s: %s", turn.message_id, error)

    # --- state ---------------------------------------------------------------------------

    def _conversation(self, agent_type: AgentType) -> ConversationState:
        if agent_type not in self._conversations:
            self._conversations[agent_type] = ConversationState()
            workflow.upsert_search_attributes(
                [AGENT_TYPES_ATTRIBUTE.value_set([a.value for a in self._conversations])]
            )
        return self._conversations[agent_type]

    def _message_id(self, input: SubmitMessageInput) -> str:
        if input.client_message_id:
            name = f"{self._input.session_id}/{input.agent_type.value}/{input.client_message_id}"
            return "m-" + uuid.uuid5(_MESSAGE_NAMESPACE, name).hex
        return "m-" + workflow.uuid4().hex

    def _is_pending(self, message_id: str) -> bool:
        return any(
            turn.message_id == message_id
            for conversation in self._conversations.values()
            for turn in conversation.pending
        )

    def _remember(self, key: str, result: SubmitMessageResult) -> None:
        self._recent_acks[key] = result
        while len(self._recent_acks) > RECENT_CLIENT_IDS:
            del self._recent_acks[next(iter(self._recent_acks))]

    def _should_continue_as_new(self) -> bool:
        return (
            self._turns_this_run >= self._input.max_turns_per_run
            or workflow.info().is_continue_as_new_suggested()
        )

    async def _continue_as_new(self) -> None:
        # Running turns finish their current step; pending turns travel to the next run.
        self._draining = True
        await workflow.wait_condition(
            lambda: not self._running and workflow.all_handlers_finished()
        )
        workflow.logger.info("continuing as new after %d turns", self._turns_this_run)
        workflow.continue_as_new(
            ChatSessionInput(
                session_id=self._input.session_id,
                user_id=self._input.user_id,
                max_message_chars=self._input.max_message_chars,
                idle_timeout_seconds=self._input.idle_timeout_seconds,
                max_turns_per_run=self._input.max_turns_per_run,
                closed_retention_seconds=self._input.closed_retention_seconds,
                # Texts stay in Redis: the next run reads each one when its turn comes.
                conversations={
                    agent_type: dataclasses.replace(
                        state,
                        pending=[
                            Turn(turn.message_id, turn.seq, event_id=turn.event_id)
                            for turn in state.pending
                        ],
                    )
                    for agent_type, state in self._conversations.items()
                },
                recent_acks=self._recent_acks,
            )
        )

    def _show_details(self) -> None:
        busy = ", ".join(sorted(a.value for a in self._running)) or "nothing"
        pending = sum(len(c.pending) for c in self._conversations.values())
        workflow.set_current_details(
            f"conversations: {len(self._conversations)}; replying in: {busy}; "
            f"pending turns: {pending}; turns this run: {self._turns_this_run}"
        )


def _user_facing(cause: BaseException | None) -> str:
    """Generic words only: the cause can quote the model server, which can quote secrets."""
    if isinstance(cause, ApplicationError) and cause.type == "ReplyRejected":
        return (
            "The agent could not answer this message. Try saying it differently, "
            "or start a new conversation if this one has grown long."
        )
    return "The agent could not answer right now. Please send the message again."
