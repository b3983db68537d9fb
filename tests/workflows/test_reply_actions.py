"""Steps, regenerate and edit-and-resend in ChatSessionWorkflow, on the time-skipping server."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from agents.capabilities import Capability
from agents.catalog import AgentType
from foundations.admission import Admission
from foundations.errors import ErrorCode
from tests.workflows import test_chat_session
from tests.workflows.test_chat_session import GUIDE, Session
from workflows.chat_session import CancelReplyInput, ChatSessionWorkflow, SubmitMessageResult
from workflows.session_payloads import EditMessageInput, RegenerateInput

INSIGHTS = AgentType.INSIGHTS_LIAISON
# The session fixture of the workflow's own tests: a fresh task queue and fakes, both turn kinds.
session = test_chat_session.session


@pytest.fixture(autouse=True)
def _visible_steps(session: Session) -> None:
    session.visible_steps = True


async def _regenerate(
    session: Session, reply: str, client_id: str, seq: int, latest: bool = True
) -> SubmitMessageResult:
    return await session.handle.execute_update(
        ChatSessionWorkflow.regenerate_reply,
        RegenerateInput(GUIDE, reply, client_id, seq=seq, latest=latest),
    )


async def test_a_capability_run_is_a_step_published_and_recorded_with_its_reply(
    session: Session,
) -> None:
    session.fakes.capability_for["summarize my sales.csv"] = Capability.SUMMARIZE_CSV
    ack = await session.send(INSIGHTS, "summarize my sales.csv")
    await session.replies(1)
    started, finished = session.fakes.steps_published
    reply_id = f"r-{ack.message_id}"
    assert (started.message_id, started.name, started.outcome) == (reply_id, "summarize_csv", None)
    assert finished.step_id == started.step_id
    assert (finished.outcome, finished.reason) == ("done", None)
    [recorded] = session.fakes.replies_recorded
    assert recorded.steps is not None
    [step] = recorded.steps
    assert (step.name, step.outcome, step.step_id) == (
        "summarize_csv",
        "done",
        started.step_id,
    )
    assert recorded.capability == "summarize_csv"


async def test_stopping_a_reply_while_its_capability_runs_cancels_the_step(
    session: Session,
) -> None:
    fakes = session.fakes
    fakes.capability_for["summarize my sales.csv"] = Capability.SUMMARIZE_CSV
    release = fakes.hold_capability = asyncio.Event()
    try:
        ack = await session.send(INSIGHTS, "summarize my sales.csv")
        async with asyncio.timeout(10):
            while not fakes.capabilities_run:
                await asyncio.sleep(0.02)
        await session.handle.signal(
            ChatSessionWorkflow.cancel_reply, CancelReplyInput(INSIGHTS, ack.message_id)
        )
        await session.replies(1)
    finally:
        release.set()
    _, finished = fakes.steps_published
    assert finished.outcome == "cancelled"
    [stopped] = fakes.replies_recorded
    assert stopped.cancelled and stopped.steps is not None
    assert [step.outcome for step in stopped.steps] == ["cancelled"]
    # The reply was never generated.
    assert fakes.replies_started == []


async def test_a_session_begun_without_steps_runs_its_capability_as_before(
    session: Session,
) -> None:
    # As a worker of a release without steps would: no step events, none recorded.
    session.visible_steps = False
    session.fakes.capability_for["summarize my sales.csv"] = Capability.SUMMARIZE_CSV
    await session.send(INSIGHTS, "summarize my sales.csv")
    await session.replies(1)
    assert len(session.fakes.capabilities_run) == 1
    assert session.fakes.steps_published == []
    assert not session.fakes.replies_recorded[0].steps


async def test_a_turn_without_a_capability_has_no_steps(session: Session) -> None:
    await session.send(GUIDE, "hello")
    await session.replies(1)
    assert session.fakes.steps_published == []
    assert not session.fakes.replies_recorded[0].steps


async def test_regenerate_sent_twice_with_one_client_id_runs_once(session: Session) -> None:
    ack = await session.send(GUIDE, "tell me a joke")
    await session.replies(1)
    first_reply = f"r-{ack.message_id}"
    once, twice = await asyncio.gather(
        _regenerate(session, first_reply, "regen-1", ack.seq),
        _regenerate(session, first_reply, "regen-1", ack.seq),
    )
    await session.replies(2)
    assert once.message_id == twice.message_id == f"{first_reply}-2"
    assert sorted([once.duplicate, twice.duplicate]) == [False, True]
    # A later message is answered after the regenerated reply: nothing else was queued.
    await session.send(GUIDE, "another")
    await session.replies(3)
    fakes = session.fakes
    assert [r.message for r in fakes.replies_started] == [
        "tell me a joke",
        "tell me a joke",
        "another",
    ]
    regenerated = fakes.replies_recorded[1]
    assert (regenerated.message_id, regenerated.regenerates, regenerated.in_reply_to) == (
        f"{first_reply}-2",
        first_reply,
        ack.message_id,
    )


async def test_regenerating_a_reply_that_is_no_longer_the_latest_is_refused(
    session: Session,
) -> None:
    ack = await session.send(GUIDE, "hello")
    await session.replies(1)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _regenerate(session, f"r-{ack.message_id}", "regen-2", ack.seq, latest=False)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == ErrorCode.NOT_LATEST_REPLY


async def test_a_regenerate_counts_against_the_limits_like_a_message(session: Session) -> None:
    ack = await session.send(GUIDE, "hello")
    await session.replies(1)
    session.fakes.refuse_with = Admission(False, ErrorCode.RATE_LIMITED, "Slow down.")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _regenerate(session, f"r-{ack.message_id}", "regen-3", ack.seq)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == ErrorCode.RATE_LIMITED
    assert [r.message for r in session.fakes.replies_started] == ["hello"]


async def test_editing_a_message_stops_its_streaming_reply_and_answers_the_new_text(
    session: Session,
) -> None:
    fakes = session.fakes
    fakes.hold["a long story"] = asyncio.Event()
    ack = await session.send(GUIDE, "a long story")
    await asyncio.wait_for(fakes.started["a long story"].wait(), 10)
    edited = await session.handle.execute_update(
        ChatSessionWorkflow.edit_message,
        EditMessageInput(GUIDE, ack.message_id, "a short story", "edit-1"),
    )
    await session.replies(2)
    stopped, answered = fakes.replies_recorded
    assert (stopped.in_reply_to, stopped.cancelled) == (ack.message_id, True)
    assert (answered.in_reply_to, answered.content) == (edited.message_id, "reply to a short story")
    assert fakes.recorded_users[edited.message_id].edits == ack.message_id
    # Both versions stay recorded.
    assert ack.message_id in fakes.recorded_users


async def test_a_refused_edit_leaves_the_streaming_reply_alone(session: Session) -> None:
    fakes = session.fakes
    release = fakes.hold["a long story"] = asyncio.Event()
    ack = await session.send(GUIDE, "a long story")
    await asyncio.wait_for(fakes.started["a long story"].wait(), 10)
    fakes.refuse_with = Admission(False, ErrorCode.RATE_LIMITED, "Slow down.")
    with pytest.raises(WorkflowUpdateFailedError):
        await session.handle.execute_update(
            ChatSessionWorkflow.edit_message,
            EditMessageInput(GUIDE, ack.message_id, "a short story", "edit-2"),
        )
    release.set()
    await session.replies(1)
    [reply] = fakes.replies_recorded
    assert (reply.cancelled, reply.content) == (False, "reply to a long story")
