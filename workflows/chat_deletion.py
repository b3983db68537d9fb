"""Deleting a chat, durably: once started it finishes, whatever crashes in between.

One workflow per chat (`chat-deletion-{chat_id}`), so a second DELETE joins the first. Each
step is an idempotent activity retried until it succeeds: a worker killed in the middle of a
step leaves the step to be run again, whole, by another worker.

1. close: the chat answers 404 everywhere, its tokens are revoked, its session terminated;
2. sweep: its Redis keys deleted and its payload key shredded (every Temporal history of it
   is unreadable from here on);
3. a second sweep after a short wait: a reply activity of the terminated session learns of the
   termination only at its next heartbeat and may write once more in between;
4. delete every run of the session workflow from Temporal;
5. the tombstone set in step 1 may expire.

Its own payloads carry the chat id, never a message: they use the shared payload key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.chat_deletion import ChatDeletion, ChatDeletionStep, SweepResult

from workflows.session_payloads import session_workflow_id

# Retried until done: a deletion that was accepted must not stop halfway.
DELETION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
)
DELETION_STEP_TIMEOUT = timedelta(minutes=1)
SWEEP_TIMEOUT = timedelta(minutes=10)
# A sweep heartbeats between batches: a killed worker's sweep is retried this soon.
SWEEP_HEARTBEAT_TIMEOUT = timedelta(seconds=10)


def deletion_workflow_id(chat_id: str) -> str:
    return f"chat-deletion-{chat_id}"


@dataclass
class ChatDeletionInput:
    chat_id: str
    second_sweep_seconds: float = 5.0


@dataclass
class ChatDeletionResult:
    keys_deleted: int
    payload_key_shredded: bool
    runs_deleted: int


@workflow.defn
class ChatDeletionWorkflow:
    """Deletes one chat: its session, its Redis keys, its data key, its Temporal executions."""

    @workflow.run
    async def run(self, input: ChatDeletionInput) -> ChatDeletionResult:
        step = ChatDeletionStep(input.chat_id, session_workflow_id(input.chat_id))
        await workflow.execute_activity_method(
            ChatDeletion.close_chat,
            step,
            start_to_close_timeout=DELETION_STEP_TIMEOUT,
            retry_policy=DELETION_RETRY,
        )
        first = await self._sweep(step)
        await workflow.sleep(timedelta(seconds=input.second_sweep_seconds))
        second = await self._sweep(step)
        executions = await workflow.execute_activity_method(
            ChatDeletion.delete_executions,
            step,
            start_to_close_timeout=DELETION_STEP_TIMEOUT,
            heartbeat_timeout=SWEEP_HEARTBEAT_TIMEOUT,
            retry_policy=DELETION_RETRY,
        )
        await workflow.execute_activity_method(
            ChatDeletion.finish_deletion,
            step,
            start_to_close_timeout=DELETION_STEP_TIMEOUT,
            retry_policy=DELETION_RETRY,
        )
        return ChatDeletionResult(
            first.keys_deleted + second.keys_deleted,
            first.payload_key_deleted or second.payload_key_deleted,
            executions.runs,
        )

    async def _sweep(self, step: ChatDeletionStep) -> SweepResult:
        return await workflow.execute_activity_method(
            ChatDeletion.sweep_chat,
            step,
            start_to_close_timeout=SWEEP_TIMEOUT,
            heartbeat_timeout=SWEEP_HEARTBEAT_TIMEOUT,
            retry_policy=DELETION_RETRY,
        )
