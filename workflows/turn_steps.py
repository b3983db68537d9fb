"""Visible steps: each capability run of a turn, shown live inside its reply and kept with it.

A step publishes `step_started` before the capability runs and `step_finished` after it
(done, failed with the reason, or cancelled when the user stopped the reply or edited the
message meanwhile); the reply's history entry keeps the finished steps, so a reloaded page
shows them too. Sessions begun before steps existed, or while a worker without them may take
the session over (a rolling deploy), keep their old command sequence: steps run only when the
session's input says so (ChatSessionInput.visible_steps, from VISIBLE_STEPS) and behind the
`visible-steps` patch (see TurnPipeline.run).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.orchestration import Orchestration, RunCapabilityInput
    from activities.post_office import PostOffice, PublishStepInput, StepRecord
    from agents.capabilities import CapabilityRequest
    from agents.catalog import AgentType
    from agents.replies import CapabilityOutcome

STEPS_PATCH = "visible-steps"
# A step's inputs in short: the summary is a line, not the inputs themselves.
SUMMARY_MAX_CHARS = 120
# The reason of a failed step: the outcome's first line, cut to this.
REASON_MAX_CHARS = 200
UNAVAILABLE = "I could not run that just now; ask me again in a moment."


def step_summary(request: CapabilityRequest) -> str:
    """The inputs a capability runs with, in a line the page can show."""
    parts = []
    if request.upload_name:
        parts.append(f"file: {request.upload_name}")
    if request.title:
        parts.append(f"title: {request.title}")
    if request.text:
        parts.append(f"text: {request.text}")
    if request.statements:
        parts.append(f"{len(request.statements)} statements")
    if request.text_seq is not None or request.statement_seqs:
        parts.append("from earlier messages")
    summary = "; ".join(parts) or request.reason
    return summary if len(summary) <= SUMMARY_MAX_CHARS else summary[: SUMMARY_MAX_CHARS - 1] + "…"


def _reason(summary: str) -> str:
    line = summary.strip().splitlines()[0] if summary.strip() else "failed"
    return line[:REASON_MAX_CHARS]


class StepRunner:
    """Runs a turn's capability as a visible step, and cancels it when the reply is stopped."""

    def __init__(
        self,
        session_id: str,
        local: tuple[timedelta, RetryPolicy],
        capability: tuple[timedelta, RetryPolicy],
    ) -> None:
        self._session_id = session_id
        # The timeout and retry policy of the step events' local activities, and of the run.
        self._local_timeout, self._local_retry = local
        self._capability_timeout, self._capability_retry = capability
        # The capability running for each user message, cancelled if its reply is stopped.
        self._running: dict[str, workflow.ActivityHandle[CapabilityOutcome]] = {}

    def cancel(self, message_id: str) -> None:
        """Stop the capability running for `message_id`, if one is."""
        handle = self._running.get(message_id)
        if handle is not None:
            handle.cancel()

    async def run(
        self,
        conversation: AgentType,
        message_id: str,
        reply: str,
        request: CapabilityRequest,
    ) -> tuple[CapabilityOutcome, StepRecord]:
        """Run the capability between `step_started` and `step_finished` events of `reply`."""
        name = request.capability.value
        step = PublishStepInput(
            self._session_id,
            conversation,
            author=request.liaison,
            message_id=reply,
            step_id=f"{reply}:{name}",
            name=name,
            summary=step_summary(request),
        )
        started_at = workflow.now()
        await self._publish(step)
        handle = workflow.start_activity_method(
            Orchestration.run_capability,
            RunCapabilityInput(self._session_id, request, conversation),
            start_to_close_timeout=self._capability_timeout,
            retry_policy=self._capability_retry,
        )
        self._running[message_id] = handle
        outcome_name = "done"
        reason: str | None = None
        try:
            outcome = await handle
            if not outcome.ok:
                outcome_name, reason = "failed", _reason(outcome.summary)
        except ActivityError as error:
            if isinstance(error.cause, CancelledError):
                outcome_name = "cancelled"
                outcome = CapabilityOutcome(name, ok=False, summary="The user stopped this.")
            else:
                workflow.logger.warning("capability %s failed: %s", name, error.cause)
                outcome_name, reason = "failed", UNAVAILABLE
                outcome = CapabilityOutcome(name, ok=False, summary=UNAVAILABLE)
        finally:
            del self._running[message_id]
        duration_ms = int((workflow.now() - started_at).total_seconds() * 1000)
        await self._publish(
            dataclasses.replace(step, outcome=outcome_name, reason=reason, duration_ms=duration_ms)
        )
        record = StepRecord(step.step_id, name, step.summary, outcome_name, duration_ms, reason)
        return outcome, record

    async def _publish(self, step: PublishStepInput) -> None:
        try:
            await workflow.execute_local_activity_method(
                PostOffice.publish_step,
                step,
                start_to_close_timeout=self._local_timeout,
                retry_policy=self._local_retry,
            )
        except ActivityError as error:
            # A step the page misses live is still recorded with the reply.
            workflow.logger.warning("could not publish a step: %s", error.cause)
