"""Questions a turn asks the person, on the time-skipping server: approvals that wait days,
expire, survive a worker restart and take exactly one answer; clarifying questions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from agents.capabilities import Capability
from agents.catalog import AgentType
from foundations.errors import ErrorCode
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from tests.workflows.test_chat_session import Session
from workflows.chat_session import AnswerQuestionInput, ChatSessionWorkflow
from workflows.questions import AWAITING_PERSON_ATTRIBUTE

OPERATIONS = AgentType.OPERATIONS_LIAISON
DRAFT = "write an SOP for onboarding"


def asking_session(env: WorkflowEnvironment) -> Session:
    """A session started as the edge starts them now, whose SOP drafts ask for approval."""
    fakes = FakeTurnActivities()
    fakes.capability_for[DRAFT] = Capability.BUILD_SOP
    fakes.ask_kind[Capability.BUILD_SOP] = "approval"
    return Session(
        env, f"test-{uuid.uuid4()}", fakes, uuid.uuid4().hex, lean_turn=True, ask_before_acting=True
    )


@pytest.fixture
async def session(workflow_env: WorkflowEnvironment) -> AsyncIterator[Session]:
    session = asking_session(workflow_env)
    fakes, task_queue = session.fakes, session.task_queue
    async with fake_worker(workflow_env.client, task_queue, fakes):
        yield session
        await _close(session)


async def _close(session: Session) -> None:
    with contextlib.suppress(RPCError):
        await session.handle.signal(ChatSessionWorkflow.close_session)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(session.handle.result(), 10)


async def asked(session: Session, count: int = 1) -> str:
    """The id of the `count`th question, once it was asked."""
    async with asyncio.timeout(20):
        while len(session.fakes.questions_asked) < count:
            await asyncio.sleep(0.02)
    return session.fakes.questions_asked[count - 1].question_id


async def answer(session: Session, question_id: str, **answer: Any) -> str:
    result = await session.handle.execute_update(
        ChatSessionWorkflow.answer_question, AnswerQuestionInput(question_id, **answer)
    )
    return result.outcome


async def awaiting_person(session: Session) -> bool | None:
    description = await session.handle.describe()
    return description.typed_search_attributes.get(AWAITING_PERSON_ATTRIBUTE)


def refusal(error: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> str | None:
    cause = error.value.cause
    return cause.type if isinstance(cause, ApplicationError) else None


async def test_an_approval_waits_three_days_then_runs_when_approved(session: Session) -> None:
    await session.send(OPERATIONS, DRAFT)
    question_id = await asked(session)
    await session.env.sleep(timedelta(days=3))
    # Still waiting: no idle completion, nothing run, the session listed as waiting.
    assert not session.fakes.capabilities_run and not session.fakes.replies_recorded
    assert await awaiting_person(session) is True
    assert await answer(session, question_id, decision="approve") == "approved"
    await session.replies(1)
    [run] = session.fakes.capabilities_run
    assert run.request.capability is Capability.BUILD_SOP
    [resolved] = session.fakes.questions_resolved
    assert (resolved.question_id, resolved.outcome) == (question_id, "approved")
    assert await awaiting_person(session) is False


async def test_an_unanswered_approval_expires_at_its_deadline(session: Session) -> None:
    await session.send(OPERATIONS, DRAFT)
    question_id = await asked(session)
    await session.env.sleep(timedelta(days=7, minutes=1))
    await session.replies(1)
    assert not session.fakes.capabilities_run
    [started] = session.fakes.replies_started
    assert started.capability is not None and not started.capability.ok
    assert "Nobody answered" in started.capability.summary
    assert session.fakes.questions_resolved[0].outcome == "expired"
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await answer(session, question_id, decision="approve")
    assert refusal(late) == ErrorCode.QUESTION_CLOSED


async def test_an_edit_runs_with_the_edited_inputs_and_a_reject_runs_nothing(
    session: Session,
) -> None:
    await session.send(OPERATIONS, DRAFT)
    first = await asked(session)
    with pytest.raises(WorkflowUpdateFailedError) as bad:
        await answer(session, first, decision="edit", inputs={"budget": "10"})
    assert refusal(bad) == ErrorCode.INVALID_ANSWER
    assert await answer(session, first, decision="edit", inputs={"steps": "x\ny\nz"}) == "edited"
    await session.replies(1)
    [run] = session.fakes.capabilities_run
    assert run.request.text == "x\ny\nz"
    await session.send(OPERATIONS, DRAFT, client_id="again")
    second = await asked(session, 2)
    assert await answer(session, second, decision="reject") == "rejected"
    await session.replies(2)
    assert len(session.fakes.capabilities_run) == 1
    summary = session.fakes.replies_started[-1].capability
    assert summary is not None and "declined" in summary.summary


async def test_two_answers_at_once_exactly_one_counts(session: Session) -> None:
    await session.send(OPERATIONS, DRAFT)
    question_id = await asked(session)
    results = await asyncio.gather(
        answer(session, question_id, decision="approve"),
        answer(session, question_id, decision="reject"),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(winners) == 1 and len(losers) == 1
    cause = losers[0].cause
    assert isinstance(cause, ApplicationError) and cause.type == ErrorCode.QUESTION_CLOSED
    await session.replies(1)
    assert len(session.fakes.questions_resolved) == 1
    assert len(session.fakes.capabilities_run) == (1 if winners == ["approved"] else 0)


async def test_a_message_sent_while_a_question_is_open_is_answered(session: Session) -> None:
    await session.send(OPERATIONS, DRAFT)
    question_id = await asked(session)
    await session.send(OPERATIONS, "what is an SOP?")
    await session.replies(1)
    assert session.fakes.replies_recorded[0].content == "reply to what is an SOP?"
    await answer(session, question_id, decision="approve")
    await session.replies(2)
    assert session.fakes.replies_recorded[1].content == f"reply to {DRAFT}"


async def test_an_unknown_question_is_refused_before_history(session: Session) -> None:
    await session.send(OPERATIONS, "hello")
    await session.replies(1)
    before = len((await session.handle.fetch_history()).events)
    with pytest.raises(WorkflowUpdateFailedError) as unknown:
        await answer(session, "q-" + "0" * 32, decision="approve")
    assert refusal(unknown) == ErrorCode.UNKNOWN_QUESTION
    events = (await session.handle.fetch_history()).events
    assert not any(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in events[before:]
    )


async def test_a_clarifying_answer_resumes_the_same_turn(session: Session) -> None:
    session.fakes.ask_kind[Capability.BUILD_SOP] = "text"
    await session.send(OPERATIONS, DRAFT)
    question_id = await asked(session)
    assert session.fakes.questions_asked[0].request.text == ""
    assert await answer(session, question_id, text="greet\nset up laptop") == "answered"
    await session.replies(1)
    [run] = session.fakes.capabilities_run
    assert run.request.text == "greet\nset up laptop"
    assert (
        session.fakes.replies_recorded[0].in_reply_to
        == session.fakes.questions_asked[0].in_reply_to
    )


async def test_an_open_question_crosses_continue_as_new(session: Session) -> None:
    first_run = (await session.send(OPERATIONS, DRAFT, max_turns_per_run=1)).message_id
    question_id = await asked(session)
    # The parked turn counted towards the run's turns: the run continues as new.
    async with asyncio.timeout(20):
        while (await session.handle.describe()).run_id == (
            await session.handle.describe()
        ).raw_description.workflow_execution_info.first_run_id:
            await asyncio.sleep(0.05)
    assert await answer(session, question_id, decision="approve") == "approved"
    await session.replies(1)
    assert session.fakes.replies_recorded[0].in_reply_to == first_run
    assert len(session.fakes.capabilities_run) == 1


async def test_the_answer_resumes_the_turn_after_a_worker_restart(
    workflow_env: WorkflowEnvironment,
) -> None:
    session = asking_session(workflow_env)
    fakes, task_queue = session.fakes, session.task_queue
    # Uncached, so it leaves no sticky queue behind that time skipping would wait on.
    async with fake_worker(workflow_env.client, task_queue, fakes, cache=False):
        await session.send(OPERATIONS, DRAFT)
        question_id = await asked(session)
    # That worker is gone: the next one rebuilds the wait from the history alone.
    async with fake_worker(workflow_env.client, task_queue, fakes):
        await session.env.sleep(timedelta(hours=5))
        assert await answer(session, question_id, decision="approve") == "approved"
        await session.replies(1)
        assert len(fakes.capabilities_run) == 1
        await _close(session)
