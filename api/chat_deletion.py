"""`DELETE /api/chats/{chat_id}`: starts the chat's durable deletion (workflows/chat_deletion.py)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api import errors
from api.chat_ownership import OwnedChat, chat_records
from api.deps import Edge
from workflows.chat_deletion import ChatDeletionInput, ChatDeletionWorkflow, deletion_workflow_id

router = APIRouter(prefix="/api/chats", tags=["chats"])


class ChatDeleting(BaseModel):
    chat_id: str
    deleting: bool = True


@router.delete("/{chat_id}", status_code=202, responses=errors.responses(401, 404, 503))
async def delete_chat(chat_id: OwnedChat, edge: Edge) -> ChatDeleting:
    """Delete a chat and everything stored of it; it is not found from this answer on.

    The deletion runs as a workflow that finishes even if a worker crashes part way: its
    session, its Redis keys, its payload key (its Temporal histories become unreadable) and
    its Temporal executions go, in about the time `DELETION_SECOND_SWEEP_SECONDS` says."""
    # Started before the chat is hidden: a chat hidden but never deleted could not be asked
    # for again. A second request joins the deletion already running.
    await edge.temporal.start_workflow(
        ChatDeletionWorkflow.run,
        ChatDeletionInput(chat_id, edge.settings.deletion_second_sweep_seconds),
        id=deletion_workflow_id(chat_id),
        task_queue=edge.settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    await chat_records(edge).mark_deleting(chat_id)
    return ChatDeleting(chat_id=chat_id)
