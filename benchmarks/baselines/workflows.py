"""Bare Temporal baselines: the cheapest update, an update with two local activities, and
Temporal's own streaming (workflow_streams) relaying the same deltas as the chat's relay."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.contrib.workflow_streams import WorkflowStream

BASELINE_TASK_QUEUE = "bench-baselines"
STEP_TIMEOUT = timedelta(seconds=5)


@activity.defn
async def noop_step(value: int) -> int:
    """A local activity that does nothing: the cost of the machinery alone."""
    return value


@workflow.defn
class NoOpUpdateWorkflow:
    """Its update does nothing: the floor of any update round trip."""

    def __init__(self) -> None:
        self._finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._finished)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def touch(self, value: int) -> int:
        return value

    @workflow.signal
    def finish(self) -> None:
        self._finished = True


@workflow.defn
class TwoLocalActivitiesWorkflow:
    """Its update runs two local activities, as the chat's admission does (admit, record)."""

    def __init__(self) -> None:
        self._finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._finished)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def touch(self, value: int) -> int:
        value = await workflow.execute_local_activity(
            noop_step, value, start_to_close_timeout=STEP_TIMEOUT
        )
        return await workflow.execute_local_activity(
            noop_step, value, start_to_close_timeout=STEP_TIMEOUT
        )

    @workflow.signal
    def finish(self) -> None:
        self._finished = True


@workflow.defn
class StreamRelayWorkflow:
    """Hosts a WorkflowStream: publishers signal deltas in, subscribers long-poll them out."""

    @workflow.init
    def __init__(self) -> None:
        self.stream = WorkflowStream()
        self._finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._finished)
        self.stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.signal
    def finish(self) -> None:
        self._finished = True
