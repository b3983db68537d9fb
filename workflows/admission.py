"""The admission step of the `submit_message` update: admit, record and, when it can, route.

Sessions started with `lean_turn` do it in one local activity (activities/intake.py);
the others keep their two (admit, then record), so that their histories replay and a worker
of a release without the intake can still take them over (a rolling deploy). The choice is
in the run's input, so replay always takes the path the run took.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.conductor import RouteDecision
    from activities.intake import AcceptMessageInput, Intake
    from activities.post_office import PostOffice, RecordResult, RecordUserMessageInput
    from activities.traffic_cop import AdmitInput, TrafficCop
    from agents.catalog import AgentType
    from foundations.admission import Admission

from workflows.session_payloads import ChatSessionInput, SubmitMessageInput
from workflows.turn_pipeline import LOCAL_STEP_TIMEOUT

# Admission runs while the sender waits for its ack: fail fast and let the client resend.
ADMISSION_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100))


@dataclass
class Admitted:
    message_id: str
    recorded: RecordResult
    timestamp: str
    # Set when the message was routed (and a handoff announced) during admission.
    decision: RouteDecision | None = None


async def admit(
    session: ChatSessionInput,
    input: SubmitMessageInput,
    message_id: Callable[[], str],
    owner: str,
    after: list[str],
    edits: str | None = None,
) -> Admitted:
    """Admit and record the message; route it too unless a message in `after` (those whose
    turns are still held) awaits its reply. Raises the refusal."""
    admit_input = AdmitInput(session.session_id, session.user_id, input.conversation, input.message)

    def record_input(message_id: str, timestamp: str) -> RecordUserMessageInput:
        return RecordUserMessageInput(
            session_id=session.session_id,
            conversation=input.conversation,
            message_id=message_id,
            content=input.message,
            timestamp=timestamp,
            client_message_id=input.client_message_id,
            owner=owner,
            edits=edits,
        )

    if session.lean_turn:
        id, now = message_id(), workflow.now().isoformat()
        accepted = await workflow.execute_local_activity_method(
            Intake.accept_message,
            AcceptMessageInput(admit_input, record_input(id, now), route=True, after=after),
            start_to_close_timeout=LOCAL_STEP_TIMEOUT,
            retry_policy=ADMISSION_RETRY,
        )
        _refuse_unless_admitted(accepted.admission)
        assert accepted.recorded is not None
        return Admitted(id, accepted.recorded, now, accepted.decision)
    admission = await workflow.execute_local_activity_method(
        TrafficCop.admit_message,
        admit_input,
        start_to_close_timeout=LOCAL_STEP_TIMEOUT,
        retry_policy=ADMISSION_RETRY,
    )
    _refuse_unless_admitted(admission)
    id, now = message_id(), workflow.now().isoformat()
    recorded = await workflow.execute_local_activity_method(
        PostOffice.record_user_message,
        record_input(id, now),
        start_to_close_timeout=LOCAL_STEP_TIMEOUT,
        retry_policy=ADMISSION_RETRY,
    )
    return Admitted(id, recorded, now)


async def admit_again(session: ChatSessionInput, conversation: AgentType, message: str) -> None:
    """Count a regenerated turn like a message (limits, policy, a live session); raises the
    refusal. A regenerate runs the agent again, so it cannot be a way around the limits."""
    admission = await workflow.execute_local_activity_method(
        TrafficCop.admit_message,
        AdmitInput(session.session_id, session.user_id, conversation, message),
        start_to_close_timeout=LOCAL_STEP_TIMEOUT,
        retry_policy=ADMISSION_RETRY,
    )
    _refuse_unless_admitted(admission)


def _refuse_unless_admitted(admission: Admission) -> None:
    if not admission.admitted:
        raise ApplicationError(admission.reason, type=admission.code)
