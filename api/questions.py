"""Questions agents ask, as the edge serves them: listed from the book, answered through the
session's workflow (the authority on the first answer). The socket and REST both use these."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from agents.catalog import AgentType
from api.agent_sdk import SessionHandle
from api.deps import EdgeState
from api.errors import EdgeError, refusal
from api.frames import QuestionAnswer
from foundations.errors import ErrorCode
from foundations.questions import QuestionBook, StoredQuestion
from foundations.server_events import AnyServerEvent
from workflows.chat_session import (
    AnswerQuestionInput,
    AnswerQuestionResult,
    ChatSessionWorkflow,
    session_workflow_id,
)

# The questions a reconnecting socket is shown: the newest ones.
RESTORED_QUESTIONS = 50


def question_book(edge: EdgeState) -> QuestionBook:
    return QuestionBook(edge.redis, edge.settings.session_ttl_seconds)


async def questions(
    edge: EdgeState, session_id: str, agent_type: AgentType | None = None
) -> list[StoredQuestion]:
    """The session's questions (of one conversation, if given), oldest first."""
    stored = await question_book(edge).all(session_id)
    return [q for q in stored if agent_type is None or q.asked.agent_type is agent_type]


def restored_events(stored: list[StoredQuestion]) -> list[AnyServerEvent]:
    """What a (re)connecting socket is sent after `conversation_restored`: each question, and
    its resolution once it has one."""
    events: list[AnyServerEvent] = []
    for question in stored[-RESTORED_QUESTIONS:]:
        events.append(question.asked)
        if question.resolved is not None:
            events.append(question.resolved)
    return events


async def answer_question(
    edge: EdgeState, session_id: str, question_id: str, answer: QuestionAnswer
) -> AnswerQuestionResult:
    """Answer an open question; raises EdgeError (unknown_question, question_closed,
    invalid_answer, unavailable)."""
    stored = await question_book(edge).get(session_id, question_id)
    if stored is None:
        raise EdgeError(ErrorCode.UNKNOWN_QUESTION, "No question of this session has this id.")
    if not stored.open:
        raise EdgeError(
            ErrorCode.QUESTION_CLOSED, "This question was already answered or has expired."
        )
    if stored.asked.kind == "file" and answer.upload is not None:
        names = {u.name.casefold() for u in await edge.uploads.list(session_id)}
        if answer.upload.casefold() not in names:
            raise EdgeError(
                ErrorCode.INVALID_ANSWER,
                "No upload of this session has that name; upload the file first.",
            )
    handle: SessionHandle = edge.temporal.get_workflow_handle_for(
        ChatSessionWorkflow.run, session_workflow_id(session_id)
    )
    try:
        # Bounded as a message is: with no worker to take the update, the client hears so.
        async with asyncio.timeout(edge.settings.message_submit_timeout_seconds):
            return await handle.execute_update(
                ChatSessionWorkflow.answer_question,
                AnswerQuestionInput(question_id, **answer.model_dump(exclude_none=True)),
            )
    except WorkflowUpdateFailedError as error:
        raise refusal(error) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise EdgeError(
            ErrorCode.UNAVAILABLE, "The answer was not taken in time; send it again."
        ) from None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise EdgeError(
                ErrorCode.QUESTION_CLOSED, "The session has ended; the question is closed."
            ) from None
        raise
