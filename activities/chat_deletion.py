"""Deleting a chat: every step idempotent, so the deletion workflow may retry any of them after
a crash, and run each to the end whatever an earlier attempt got done (docs/privacy.md)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from foundations.chat_records import ChatRecords
from foundations.payload_keys import PayloadKeyStore

# How often, and how many times, one attempt looks for the deleted executions to be gone.
DELETED_CHECK_INTERVAL = 0.2
DELETED_CHECKS = 100


@dataclass
class ChatDeletionStep:
    chat_id: str
    # The chat's session workflow id, which is also its payload key id.
    workflow_id: str


@dataclass
class SweepResult:
    keys_deleted: int
    payload_key_deleted: bool


@dataclass
class ExecutionsDeleted:
    runs: int


class ExecutionsRemain(Exception):
    """Temporal deletes executions in the background: the step looks again on its retry."""


class ChatDeletion:
    """The deletion's I/O: the session's Temporal executions, its Redis keys, its data key."""

    def __init__(self, temporal: Client, records: ChatRecords, keys: PayloadKeyStore) -> None:
        self._temporal = temporal
        self._records = records
        self._keys = keys

    @activity.defn
    async def close_chat(self, step: ChatDeletionStep) -> None:
        """Hide the chat everywhere, revoke its tokens and stop its session workflow.

        Terminate, not the `close_session` signal: a closing session finishes its accepted turns
        and writes their replies, which would only have to be deleted again."""
        await self._records.mark_deleting(step.chat_id)
        try:
            await self._temporal.get_workflow_handle(step.workflow_id).terminate(
                reason="the chat was deleted"
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # not found: none running
                raise

    @activity.defn
    async def sweep_chat(self, step: ChatDeletionStep) -> SweepResult:
        """Delete every Redis key of the chat and shred its payload key."""
        deleted = await self._records.delete_chat_keys(step.chat_id, activity.heartbeat)
        shredded = await self._keys.delete(step.workflow_id)
        return SweepResult(deleted, shredded)

    @activity.defn
    async def delete_executions(self, step: ChatDeletionStep) -> ExecutionsDeleted:
        """Delete every run of the session workflow, closed or not, from Temporal."""
        service = self._temporal.workflow_service
        runs = [
            execution.run_id
            async for execution in self._temporal.list_workflows(
                f"WorkflowId = '{step.workflow_id}'"
            )
        ]
        # The current run too: visibility may not list a run that closed a moment ago.
        runs_and_current = [*runs, ""]
        for run_id in runs_and_current:
            try:
                await service.delete_workflow_execution(
                    DeleteWorkflowExecutionRequest(
                        namespace=self._temporal.namespace,
                        workflow_execution=WorkflowExecution(
                            workflow_id=step.workflow_id, run_id=run_id
                        ),
                    )
                )
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
        # The server deletes in the background, usually within a second: look again shortly
        # rather than fail the attempt and wait out the retry policy's backoff.
        for _ in range(DELETED_CHECKS):
            if not [run_id for run_id in runs_and_current if await self._exists(step, run_id)]:
                return ExecutionsDeleted(len(runs))
            activity.heartbeat()
            await asyncio.sleep(DELETED_CHECK_INTERVAL)
        raise ExecutionsRemain(f"a run of {step.workflow_id} is not deleted yet")

    async def _exists(self, step: ChatDeletionStep, run_id: str) -> bool:
        handle = self._temporal.get_workflow_handle(step.workflow_id, run_id=run_id or None)
        try:
            await handle.describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    @activity.defn
    async def finish_deletion(self, step: ChatDeletionStep) -> None:
        """The chat is gone: its tombstone may now expire."""
        await self._records.deleted(step.chat_id)
