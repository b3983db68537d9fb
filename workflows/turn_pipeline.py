"""One turn of a conversation, from the recorded user message to the recorded reply.

The steps, in order: read the message back if it crossed continue-as-new without its text,
route it (who answers, whether the guide hands it to a liaison, which capability to run),
announce a handoff, run the capability, stream the reply, record it. A failed step ends the
turn with an error notice in the reply's place, never the session. Runs inside the session
workflow (workflows/chat_session.py), which decides when each turn starts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.agent_replies import AgentReplies, GeneratedReply, GenerateReplyInput
    from activities.conductor import Conductor, RouteDecision, RouteInput
    from activities.orchestration import Orchestration, RunCapabilityInput
    from activities.post_office import (
        HandoffInput,
        PostOffice,
        ReadMessageInput,
        RecordReplyInput,
        StepRecord,
        TurnFailedInput,
        reply_id,
    )
    from agents.capabilities import CapabilityRequest
    from agents.catalog import AgentType
    from agents.replies import CapabilityOutcome
    from foundations.errors import ErrorCode

from workflows.session_payloads import Turn
from workflows.turn_steps import STEPS_PATCH, StepRunner

if TYPE_CHECKING:
    from workflows.questions import QuestionDesk

# Local activities: short Redis round trips, run inside the workflow task.
LOCAL_STEP_TIMEOUT = timedelta(seconds=5)
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


class TurnPipeline:
    """Runs the turns of one session, and stops the replies the user asks to stop."""

    def __init__(self, session_id: str, lean: bool = False, steps: bool = False) -> None:
        self._session_id = session_id
        # The reply activity records the reply itself (ChatSessionInput.lean_turn).
        self._lean = lean
        # The reply streaming in each conversation, by the user message it answers.
        self._replying: dict[AgentType, tuple[str, workflow.ActivityHandle[GeneratedReply]]] = {}
        # Queued turns whose reply was stopped before it started.
        self._cancelled: set[str] = set()
        # Where a turn waits for the person (workflows/questions.py); set by the session.
        self.questions: QuestionDesk | None = None
        # Capability runs shown as steps of their reply (ChatSessionInput.visible_steps).
        self._visible_steps = steps
        self._steps = StepRunner(
            session_id,
            (LOCAL_STEP_TIMEOUT, TURN_STEP_RETRY),
            (CAPABILITY_TIMEOUT, CAPABILITY_RETRY),
        )

    def stop_streaming(self, conversation: AgentType, message_id: str) -> bool:
        """Cut short the reply to `message_id` if it is the one streaming; False if it is not."""
        replying = self._replying.get(conversation)
        if replying is None or replying[0] != message_id:
            return False
        replying[1].cancel()
        return True

    def skip_reply(self, message_id: str) -> None:
        """Never start the reply to this queued message: its turn records an empty stopped one."""
        self._cancelled.add(message_id)
        self._steps.cancel(message_id)

    async def run(self, conversation: AgentType, turn: Turn) -> None:
        """Route, reply, record. A failed step ends this turn with an error, not the session."""
        session_id = self._session_id
        try:
            if not turn.message:
                turn.message = await workflow.execute_local_activity_method(
                    PostOffice.read_message,
                    ReadMessageInput(session_id, conversation, turn.seq),
                    start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                    retry_policy=TURN_STEP_RETRY,
                )
            # Routed during admission when no earlier turn waited; a handoff then announced.
            decision = turn.decision
            if turn.resolution is not None:
                decision = turn.resolution.decision
            elif decision is None:
                decision = await self._route(conversation, turn)
            if await self._asks_person(conversation, turn, decision):
                return  # parked until the person answers; the conversation goes on
            outcome, steps = await self._capability_outcome(conversation, turn, decision)
            reply = await self._generate_reply(conversation, turn, decision.author, outcome, steps)
            if reply.recorded:  # by the reply activity itself
                return
            await workflow.execute_local_activity_method(
                PostOffice.record_reply,
                RecordReplyInput(
                    session_id=session_id,
                    conversation=conversation,
                    message_id=reply.message_id,
                    in_reply_to=turn.message_id,
                    content=reply.content,
                    timestamp=workflow.now().isoformat(),
                    author=decision.author,
                    cancelled=reply.cancelled,
                    in_reply_to_event_id=turn.event_id,
                    steps=steps,
                    regenerates=turn.regenerates or None,
                    capability=outcome.capability if outcome else None,
                    provider=reply.provider,
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("turn for %s failed: %s", turn.message_id, error.cause)
            await self._report_turn_failure(conversation, turn, error.cause)

    async def _route(self, conversation: AgentType, turn: Turn) -> RouteDecision:
        decision = await workflow.execute_local_activity_method(
            Conductor.route,
            RouteInput(self._session_id, conversation, turn.message, turn.seq),
            start_to_close_timeout=LOCAL_STEP_TIMEOUT,
            retry_policy=TURN_STEP_RETRY,
        )
        if decision.handoff_reason is not None:
            await workflow.execute_local_activity_method(
                PostOffice.announce_handoff,
                HandoffInput(
                    self._session_id,
                    conversation,
                    decision.author,
                    decision.handoff_reason,
                    turn.message_id,
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )
        return decision

    async def _asks_person(
        self, conversation: AgentType, turn: Turn, decision: RouteDecision
    ) -> bool:
        if decision.capability is None or self.questions is None:
            return False
        return await self.questions.ask(conversation, turn, decision)

    async def _capability_outcome(
        self, conversation: AgentType, turn: Turn, decision: RouteDecision
    ) -> tuple[CapabilityOutcome | None, list[StepRecord] | None]:
        """Run the capability as decided, or as the person's answer changed it, as a step."""
        request = decision.capability
        resolution = turn.resolution
        if resolution is not None and request is not None:
            if resolution.request is None:  # rejected or expired: say so, do not run it
                outcome = CapabilityOutcome(
                    request.capability.value, ok=False, summary=resolution.note
                )
                return outcome, None
            request = resolution.request
        if request is None:
            return None, None
        if not (self._visible_steps and workflow.patched(STEPS_PATCH)):
            return await self._run_capability(request, conversation), None
        outcome, step = await self._steps.run(
            conversation,
            turn.message_id,
            turn.reply_id or reply_id(turn.message_id),
            request,
        )
        return outcome, [step]

    async def _run_capability(
        self, request: CapabilityRequest, conversation: AgentType
    ) -> CapabilityOutcome:
        """Run the liaison's capability; a failure becomes something the reply can say."""
        try:
            return await workflow.execute_activity_method(
                Orchestration.run_capability,
                RunCapabilityInput(self._session_id, request, conversation),
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
        author: AgentType,
        capability: CapabilityOutcome | None,
        steps: list[StepRecord] | None = None,
    ) -> GeneratedReply:
        # A regenerated reply has an id of its own (Turn.reply_id).
        reply = turn.reply_id or reply_id(turn.message_id)
        if turn.message_id in self._cancelled:
            self._cancelled.discard(turn.message_id)
            return GeneratedReply(reply, "", cancelled=True)
        handle = workflow.start_activity_method(
            AgentReplies.generate_reply,
            GenerateReplyInput(
                session_id=self._session_id,
                conversation=conversation,
                author=author,
                message_id=reply,
                in_reply_to=turn.message_id,
                in_reply_to_seq=turn.seq,
                message=turn.message,
                capability=capability,
                in_reply_to_event_id=turn.event_id,
                # Whether it recorded the reply is in its result: replay follows the run.
                record=self._lean,
                steps=steps,
                regenerates=turn.regenerates or None,
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
                    session_id=self._session_id,
                    conversation=conversation,
                    in_reply_to=turn.message_id,
                    code=ErrorCode.REPLY_FAILED,
                    message=_user_facing(cause),
                    timestamp=workflow.now().isoformat(),
                    reply_id=turn.reply_id or None,
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )
        except ActivityError as error:
            # The notice is lost, the session is not: the user's message stays recorded.
            workflow.logger.error("could not report failed turn %s: %s", turn.message_id, error)


def _user_facing(cause: BaseException | None) -> str:
    """Generic words only: the cause can quote the model server, which can quote secrets."""
    if isinstance(cause, ApplicationError) and cause.type == "ReplyRejected":
        return (
            "The agent could not answer this message. Try saying it differently, "
            "or start a new conversation if this one has grown long."
        )
    return "The agent could not answer right now. Please send the message again."
