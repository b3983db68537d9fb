"""ChatSessionWorkflow on Temporal's time-skipping test server, with fake activities."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from agents.capabilities import Capability
from agents.catalog import AgentType
from foundations.admission import Admission
from tests.payload_sizes import largest, run_histories
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from workflows.chat_session import (
    MAX_PENDING_TURNS,
    PAYLOAD_BUDGET_BYTES,
    CancelReplyInput,
    ChatSessionInput,
    ChatSessionWorkflow,
    SubmitMessageInput,
    SubmitMessageResult,
    session_search_attributes,
    session_workflow_id,
)

GUIDE = AgentType.GUIDE
CONTENT = AgentType.CONTENT_LIAISON


@dataclass
class Session:
    env: WorkflowEnvironment
    task_queue: str
    fakes: FakeTurnActivities
    session_id: str
    # Admission in one local activity (sessions the edge starts now) or in two (older ones).
    lean_turn: bool = False
    # Capability turns may ask the person first (tests/workflows/test_questions.py).
    ask_before_acting: bool = False
    # Capability runs shown as steps (sessions the edge starts now).
    visible_steps: bool = False

    def start_operation(
        self, max_turns_per_run: int
    ) -> WithStartWorkflowOperation[ChatSessionWorkflow, None]:
        return WithStartWorkflowOperation(
            ChatSessionWorkflow.run,
            ChatSessionInput(
                self.session_id,
                "user-1",
                max_turns_per_run=max_turns_per_run,
                lean_turn=self.lean_turn,
                ask_before_acting=self.ask_before_acting,
                visible_steps=self.visible_steps,
            ),
            id=session_workflow_id(self.session_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=session_search_attributes(self.session_id, "user-1"),
        )

    async def send(
        self,
        conversation: AgentType,
        text: str,
        client_id: str | None = None,
        max_turns_per_run: int = 500,
    ) -> SubmitMessageResult:
        return await self.env.client.execute_update_with_start_workflow(
            ChatSessionWorkflow.submit_message,
            SubmitMessageInput(conversation, text, client_id),
            start_workflow_operation=self.start_operation(max_turns_per_run),
        )

    @property
    def handle(self) -> WorkflowHandle[ChatSessionWorkflow, None]:
        return self.env.client.get_workflow_handle_for(
            ChatSessionWorkflow.run, session_workflow_id(self.session_id)
        )

    async def replies(self, count: int) -> None:
        """Wait until `count` replies have been recorded."""
        async with asyncio.timeout(20):
            while len(self.fakes.replies_recorded) < count:
                await asyncio.sleep(0.02)


@pytest.fixture(params=[False, True], ids=["classic-turn", "lean-turn"])
async def session(
    workflow_env: WorkflowEnvironment, request: pytest.FixtureRequest
) -> AsyncIterator[Session]:
    fakes = FakeTurnActivities()
    task_queue = f"test-{uuid.uuid4()}"
    async with fake_worker(workflow_env.client, task_queue, fakes):
        session = Session(workflow_env, task_queue, fakes, uuid.uuid4().hex, request.param)
        yield session
        # A run left behind would hold up time skipping for the tests after this one. Close it
        # gracefully: terminating it in the middle of a workflow task leaves the test server
        # waiting for that task.
        for held in fakes.hold.values():
            held.set()
        with contextlib.suppress(RPCError):
            await session.handle.signal(ChatSessionWorkflow.close_session)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.handle.result(), 10)


async def test_a_message_is_acknowledged_then_answered(session: Session) -> None:
    ack = await session.send(GUIDE, "hello")
    assert ack.seq == 1 and not ack.duplicate
    await session.replies(1)
    recorded = session.fakes.replies_recorded[0]
    assert recorded.in_reply_to == ack.message_id
    assert recorded.content == "reply to hello"


async def test_idle_session_completes_after_thirty_minutes(session: Session) -> None:
    await session.send(GUIDE, "hello")
    await session.replies(1)
    await session.env.sleep(timedelta(minutes=29))
    assert (await session.handle.describe()).status is WorkflowExecutionStatus.RUNNING
    await session.env.sleep(timedelta(minutes=2))
    await session.handle.result()
    assert (await session.handle.describe()).status is WorkflowExecutionStatus.COMPLETED


async def test_a_message_after_idle_completion_starts_a_new_run(session: Session) -> None:
    await session.send(GUIDE, "first", "c-1")
    await session.replies(1)
    first_run = (await session.handle.describe()).run_id
    await session.env.sleep(timedelta(minutes=31))
    await session.handle.result()
    await session.send(GUIDE, "second", "c-2")
    await session.replies(2)
    assert (await session.handle.describe()).run_id != first_run


async def test_duplicate_client_message_id_is_processed_once(session: Session) -> None:
    first = await session.send(GUIDE, "hello", "client-1")
    second = await session.send(GUIDE, "hello", "client-1")
    await session.send(GUIDE, "next", "client-2")
    await session.replies(2)
    assert second.message_id == first.message_id and second.seq == first.seq
    assert second.duplicate and not first.duplicate
    assert [r.message for r in session.fakes.replies_started] == ["hello", "next"]


async def test_continue_as_new_keeps_counts_pending_turns_and_dedupe(session: Session) -> None:
    acks = [
        await session.send(GUIDE, f"message {n}", f"client-{n}", max_turns_per_run=2)
        for n in range(3)
    ]
    await session.replies(3)
    first_run = acks[0]
    # Two turns per run: the third turn ran in a new run, started by continue-as-new.
    description = await session.handle.describe()
    assert description.run_id is not None
    status = await session.handle.query(ChatSessionWorkflow.get_status)
    guide = next(c for c in status.conversations if c.conversation is GUIDE)
    assert guide.turns_completed == 3
    assert status.turns_this_run < 3
    again = await session.send(GUIDE, "message 0", "client-0")
    assert again.duplicate and again.message_id == first_run.message_id
    assert len(session.fakes.replies_started) == 3
    history = await session.handle.fetch_history()
    assert history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id


async def test_validator_rejections_leave_no_history_events(session: Session) -> None:
    await session.send(GUIDE, "hello")
    await session.replies(1)
    before = len((await session.handle.fetch_history()).events)
    rejected: list[str | None] = []
    for text in ["", "   ", "x" * 8001]:
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await session.handle.execute_update(
                ChatSessionWorkflow.submit_message, SubmitMessageInput(GUIDE, text)
            )
        assert isinstance(failure.value.cause, ApplicationError)
        rejected.append(failure.value.cause.type)
    await session.handle.signal(ChatSessionWorkflow.close_session)
    after_close = len((await session.handle.fetch_history()).events)
    assert rejected == ["empty_message", "empty_message", "message_too_long"]
    # Only the close signal (and its workflow task) was written.
    assert after_close > before
    events = (await session.handle.fetch_history()).events
    assert not any(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in events[before:]
    )


async def test_closed_session_refuses_messages_and_finishes_accepted_turns(
    session: Session,
) -> None:
    release = session.fakes.hold["slow"] = asyncio.Event()
    await session.send(GUIDE, "slow")
    await session.send(GUIDE, "queued")
    await session.handle.signal(ChatSessionWorkflow.close_session)
    # The turns in flight keep the run open: the validator is what refuses.
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await session.handle.execute_update(
            ChatSessionWorkflow.submit_message, SubmitMessageInput(GUIDE, "more")
        )
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type == "session_closed"
    release.set()
    await session.handle.result()
    assert session.fakes.replies_for(GUIDE) == ["reply to slow", "reply to queued"]
    # Only after its last turn: the session's records are let go within the stated window.
    assert [f.within_seconds for f in session.fakes.forgotten] == [600]


async def test_admission_refusal_reaches_the_sender(session: Session) -> None:
    session.fakes.refuse_with = Admission(False, "rate_limited", "Slow down.")
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await session.send(GUIDE, "hello")
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message) == ("rate_limited", "Slow down.")
    assert session.fakes.recorded_users == {}


async def test_turns_run_in_order_per_conversation_and_conversations_run_concurrently(
    session: Session,
) -> None:
    fakes = session.fakes
    release_guide = asyncio.Event()
    fakes.hold["g1"] = release_guide
    for text in ["g1", "g2", "g3"]:
        await session.send(GUIDE, text)
    for text in ["c1", "c2"]:
        await session.send(CONTENT, text)
    # Content turns complete while the guide's first reply is still held back.
    await asyncio.wait_for(fakes.started["c2"].wait(), 10)
    assert not fakes.started["g2"].is_set()
    release_guide.set()
    await session.replies(5)
    assert fakes.replies_for(GUIDE) == ["reply to g1", "reply to g2", "reply to g3"]
    assert fakes.replies_for(CONTENT) == ["reply to c1", "reply to c2"]


async def test_status_query_reports_conversations(session: Session) -> None:
    await session.send(GUIDE, "a")
    await session.send(CONTENT, "b")
    await session.replies(2)
    status = await session.handle.query(ChatSessionWorkflow.get_status)
    assert {c.conversation: c.turns_completed for c in status.conversations} == {
        GUIDE: 1,
        CONTENT: 1,
    }
    assert not status.closed


async def test_the_guide_hands_a_message_to_a_liaison(session: Session) -> None:
    session.fakes.route_to["how do I upload a CSV?"] = CONTENT
    ack = await session.send(GUIDE, "how do I upload a CSV?")
    await session.replies(1)
    [handoff] = session.fakes.handoffs
    assert (handoff.conversation, handoff.to, handoff.in_reply_to) == (
        GUIDE,
        CONTENT,
        ack.message_id,
    )
    [reply] = session.fakes.replies_recorded
    # Recorded in the guide's conversation, written by the liaison.
    assert (reply.conversation, reply.author) == (GUIDE, CONTENT)
    assert session.fakes.replies_started[0].author is CONTENT


async def test_a_streaming_reply_can_be_stopped(session: Session) -> None:
    fakes = session.fakes
    fakes.hold["long story"] = asyncio.Event()
    ack = await session.send(GUIDE, "long story")
    await asyncio.wait_for(fakes.started["long story"].wait(), 10)
    await session.handle.signal(
        ChatSessionWorkflow.cancel_reply, CancelReplyInput(GUIDE, f"r-{ack.message_id}")
    )
    await session.replies(1)
    [reply] = fakes.replies_recorded
    assert (reply.cancelled, reply.content, reply.in_reply_to) == (True, "partial", ack.message_id)
    await session.send(GUIDE, "next")
    await session.replies(2)
    assert fakes.replies_recorded[1].content == "reply to next"


async def test_a_queued_reply_stopped_before_it_starts_is_never_generated(session: Session) -> None:
    fakes = session.fakes
    release = fakes.hold["first"] = asyncio.Event()
    await session.send(GUIDE, "first")
    queued = await session.send(GUIDE, "second")
    await asyncio.wait_for(fakes.started["first"].wait(), 10)
    await session.handle.signal(
        ChatSessionWorkflow.cancel_reply, CancelReplyInput(GUIDE, queued.message_id)
    )
    await asyncio.sleep(0.2)
    release.set()
    await session.replies(2)
    assert [r.message for r in fakes.replies_started] == ["first"]
    assert (fakes.replies_recorded[1].cancelled, fakes.replies_recorded[1].content) == (True, "")


async def test_a_liaison_runs_its_capability_and_the_reply_cites_it(session: Session) -> None:
    session.fakes.capability_for["summarize my sales.csv"] = Capability.SUMMARIZE_CSV
    await session.send(AgentType.INSIGHTS_LIAISON, "summarize my sales.csv")
    await session.replies(1)
    [run] = session.fakes.capabilities_run
    assert run.request.capability is Capability.SUMMARIZE_CSV
    [started] = session.fakes.replies_started
    assert started.capability is not None and started.capability.summary == "3 rows, 2 columns"


async def test_messages_move_the_idle_deadline_without_new_timers(session: Session) -> None:
    for text in ["one", "two", "three"]:
        await session.send(GUIDE, text)
    await session.replies(3)
    events = (await session.handle.fetch_history()).events
    assert sum(1 for e in events if e.HasField("timer_started_event_attributes")) == 1


async def test_pending_turns_cross_continue_as_new_without_their_text(session: Session) -> None:
    # 8,000 emoji: 96 KB each as a JSON payload. Held behind the first reply, 20 of them
    # would carry 1.9 MB of text into the next run's input.
    texts = [f"{n} " + "\N{GRINNING FACE}" * 7990 for n in range(20)]
    session.fakes.hold[texts[0]] = asyncio.Event()
    for text in texts:
        await session.send(GUIDE, text, max_turns_per_run=1)
    session.fakes.hold[texts[0]].set()
    await session.replies(len(texts))
    assert session.fakes.replies_for(GUIDE) == [f"reply to {text}" for text in texts]
    assert session.fakes.messages_read  # the later runs read their turns' texts back
    histories = await run_histories(session.env.client, session.handle.id)
    assert len(histories) > 2
    biggest_payload, biggest_event = largest(histories)
    assert biggest_payload <= PAYLOAD_BUDGET_BYTES
    assert biggest_event <= PAYLOAD_BUDGET_BYTES


async def test_a_conversation_refuses_messages_past_its_pending_turn_cap(session: Session) -> None:
    session.fakes.hold["first"] = asyncio.Event()
    await session.send(GUIDE, "first")
    for n in range(MAX_PENDING_TURNS - 1):
        await session.send(GUIDE, f"waiting {n}")
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await session.send(GUIDE, "one too many")
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type == "too_many_pending_messages"
    # Another conversation is not held back by this one's queue.
    assert not (await session.send(CONTENT, "hello")).duplicate
