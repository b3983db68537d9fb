"""One durable workflow per chat session: admits messages, runs turns in order, keeps state small.

Messages enter through the `submit_message` update, which returns as soon as the message is
admitted and recorded; the turn (route -> reply -> record, workflows/turn_pipeline.py) runs
afterwards in the conversation's own task, so turns of one conversation run strictly in order
while conversations run side by side. Message texts live in Redis, not in workflow state:
continue-as-new carries only counters, pending turns and recent dedupe ids. The payload types
live in workflows/session_payloads.py and are importable from here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.post_office import (
        ForgetSessionInput,
        PostOffice,
        answered_message_id,
    )
    from agents.catalog import AgentType
    from foundations import tracing
    from foundations.errors import ErrorCode

from workflows.admission import admit
from workflows.chat_actions import ChatActions
from workflows.questions import QuestionDesk
from workflows.session_payloads import (
    AGENT_TYPES_ATTRIBUTE,
    MAX_PENDING_TURNS,
    PAYLOAD_BUDGET_BYTES,
    CancelReplyInput,
    ChatSessionInput,
    ConversationState,
    RenameChatInput,
    SubmitMessageInput,
    SubmitMessageResult,
    Turn,
    session_search_attributes,
    session_workflow_id,
)
from workflows.turn_pipeline import LOCAL_STEP_TIMEOUT, TURN_STEP_RETRY, TurnPipeline

__all__ = [
    "MAX_PENDING_TURNS",
    "PAYLOAD_BUDGET_BYTES",
    "CancelReplyInput",
    "ChatSessionInput",
    "ChatSessionWorkflow",
    "RenameChatInput",
    "SubmitMessageInput",
    "SubmitMessageResult",
    "session_search_attributes",
    "session_workflow_id",
]

# Client message ids remembered in workflow state for instant duplicate acks.
RECENT_CLIENT_IDS = 500


@workflow.defn
class ChatSessionWorkflow(ChatActions):
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
        self._pipeline = TurnPipeline(
            input.session_id, lean=input.lean_turn, steps=input.visible_steps
        )
        self._questions = QuestionDesk(
            input.session_id, timedelta(seconds=input.question_timeout_seconds), self._resume_turn
        )
        if input.ask_before_acting:
            self._pipeline.questions = self._questions
        # Each accepted message's trace, so its turn joins it even when it runs in the task of
        # an earlier message's turn. Not carried over continue-as-new: traces are best effort.
        self._turn_traces: dict[str, tracing.Context] = {}
        self._title = input.title

    @workflow.run
    async def run(self, input: ChatSessionInput) -> None:
        workflow.upsert_memo({"session_id": input.session_id, "user_id": input.user_id})
        for conversation, state in self._conversations.items():
            if state.pending:
                self._start_turns(conversation)
        self._questions.reopen(input.open_questions)
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
                # A question waits for a person, for days if need be: not idle.
                if idle_for >= idle_timeout and not self._running and not self._questions.open:
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
        return await self._accept(input)

    async def _accept(
        self, input: SubmitMessageInput, edits: str | None = None
    ) -> SubmitMessageResult:
        dedupe_key = f"{input.conversation.value}:{input.client_message_id}"
        lock = self._locks.setdefault(input.conversation, asyncio.Lock())
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
            state = self._conversations.get(input.conversation)
            admitted = await admit(
                self._input,
                input,
                lambda: self._message_id(input),
                owner=f"{workflow.info().run_id}:{workflow.current_update_info().id}",  # type: ignore[union-attr]
                # Routing reads the turns before the message: complete once these are answered.
                after=[turn.message_id for turn in state.pending] if state is not None else [],
                edits=edits,
            )
            message_id, recorded, now = admitted.message_id, admitted.recorded, admitted.timestamp
            result = SubmitMessageResult(
                message_id, recorded.seq, recorded.event_id, duplicate=not recorded.first_time
            )
            if input.client_message_id:
                self._remember(message_id, result)
            # A message first recorded by a run that was lost (terminated, reset) was never
            # answered: this resend gets it answered, unless the turn is already in hand here.
            if result.duplicate and (recorded.answered or self._is_pending(message_id)):
                return result
            state = self._conversation(input.conversation)
            state.pending.append(
                Turn(message_id, recorded.seq, input.message, recorded.event_id, admitted.decision)
            )
            self._turn_traces[message_id] = tracing.current_context()
            state.last_activity = now
            self._last_message_at = workflow.now()
            self._show_in_chat_list(input.message)
            self._start_turns(input.conversation)
            return result

    @submit_message.validator
    def validate_submit_message(self, input: SubmitMessageInput) -> None:
        """Reject, before anything is written to history, what can never be accepted."""
        if self._closed:
            raise ApplicationError("This chat session is closed.", type=ErrorCode.SESSION_CLOSED)
        state = self._conversations.get(input.conversation)
        input.check(
            pending_turns=len(state.pending) if state is not None else 0,
            max_chars=self._input.max_message_chars,
        )

    @workflow.signal
    def close_session(self) -> None:
        """Refuse new messages, finish the turns already accepted, then complete."""
        self._closed = True

    @workflow.signal
    def cancel_reply(self, input: CancelReplyInput) -> None:
        """Stop a reply: the streaming one is cut short, a queued one is never started."""
        message_id = answered_message_id(input.message_id)
        if self._pipeline.stop_streaming(input.conversation, message_id):
            return
        state = self._conversations.get(input.conversation)
        if state is not None and any(t.message_id == message_id for t in state.pending):
            self._pipeline.skip_reply(message_id)

    # --- turns ---------------------------------------------------------------------------

    def _start_turns(self, conversation: AgentType) -> None:
        if conversation in self._running or self._draining or self._should_continue_as_new():
            return  # the pending turns travel to the next run
        self._running[conversation] = asyncio.create_task(self._run_turns(conversation))

    async def _run_turns(self, conversation: AgentType) -> None:
        state = self._conversations[conversation]
        try:
            while state.pending and not self._draining and not self._should_continue_as_new():
                turn = state.pending[0]
                self._show_details()
                with tracing.resumed(self._turn_traces.pop(turn.message_id, None)):
                    await self._pipeline.run(conversation, turn)
                state.pending.pop(0)
                state.turns_completed += 1
                state.last_activity = workflow.now().isoformat()
                self._turns_this_run += 1
        except BaseException as failure:  # surfaced by the main loop, which fails the task
            self._failure = failure
        finally:
            del self._running[conversation]
            self._show_details()

    # --- state ---------------------------------------------------------------------------

    def _conversation(self, conversation: AgentType) -> ConversationState:
        if conversation not in self._conversations:
            self._conversations[conversation] = ConversationState()
            workflow.upsert_search_attributes(
                [AGENT_TYPES_ATTRIBUTE.value_set([a.value for a in self._conversations])]
            )
        return self._conversations[conversation]

    def _message_id(self, input: SubmitMessageInput) -> str:
        return input.derived_message_id(self._input.session_id) or "m-" + workflow.uuid4().hex

    def _is_pending(self, message_id: str) -> bool:
        return any(
            turn.message_id == message_id
            for state in self._conversations.values()
            for turn in state.pending
        )

    def _is_pending_reply(self, conversation: AgentType, reply: str) -> bool:
        state = self._conversations.get(conversation)
        return state is not None and any(turn.reply_id == reply for turn in state.pending)

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
            lambda: (
                not self._running
                and not self._questions.resolving
                and workflow.all_handlers_finished()
            )
        )
        workflow.logger.info("continuing as new after %d turns", self._turns_this_run)
        next_run = self._input.next_run(self._conversations, self._recent_acks)
        # Open questions wait on in the next run (their turns stay parked).
        next_run.open_questions = self._questions.carried()
        workflow.continue_as_new(dataclasses.replace(next_run, title=self._title))

    def _show_details(self) -> None:
        busy = ", ".join(sorted(a.value for a in self._running)) or "nothing"
        pending = sum(len(c.pending) for c in self._conversations.values())
        workflow.set_current_details(
            f"conversations: {len(self._conversations)}; replying in: {busy}; "
            f"pending turns: {pending}; turns this run: {self._turns_this_run}"
        )
