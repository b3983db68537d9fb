"""Regenerate the committed workflow histories the replay test replays.

Run `python -m tests.workflows.record_histories` after a deliberate, versioned change to the
workflow; never to make a failing replay pass. Histories already committed are kept (they prove
that runs started by older code still replay): only missing files are written, unless
`--force` is given. Each file is named after the scenario and the payload names it was
written with (RECORDED_WITH); the files without that suffix were written while payloads
still said `agent_type` for both the conversation and the author.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from temporalio.client import WorkflowHistory

from agents.capabilities import Capability
from agents.catalog import AgentType
from tests.conftest import start_workflow_env
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from tests.workflows.test_chat_session import Session
from workflows.chat_session import CancelReplyInput, ChatSessionWorkflow
from workflows.session_payloads import EditMessageInput, RegenerateInput

HISTORIES = Path(__file__).parent / "histories"
FORCE = "--force" in sys.argv
# Change this with the payload names (a field renamed in a payload type): the histories of the
# earlier names stay committed next to those of the new ones.
RECORDED_WITH = "conversation_author"


def _write(scenario: str, history: WorkflowHistory) -> None:
    path = HISTORIES / f"{scenario}.{RECORDED_WITH}.json"
    if FORCE or not path.exists():
        path.write_text(history.to_json())


async def record() -> None:
    env = await start_workflow_env()
    async with env:
        fakes = FakeTurnActivities()
        task_queue = f"record-{uuid.uuid4()}"
        async with fake_worker(env.client, task_queue, fakes):
            session = Session(env, task_queue, fakes, "recorded-session")
            await session.send(AgentType.GUIDE, "hello", "c-1", max_turns_per_run=3)
            await session.send(AgentType.CONTENT_LIAISON, "parse my file", "c-2")
            await session.send(AgentType.GUIDE, "hello", "c-1")
            await session.send(AgentType.GUIDE, "and then?", "c-3")
            await session.replies(3)
            await session.send(AgentType.INSIGHTS_LIAISON, "chart it", "c-4")
            await session.replies(4)
            await session.handle.signal(ChatSessionWorkflow.close_session)
            await session.handle.result()
            history = await session.handle.fetch_history()
            _write("two_runs_closed", history)
            first = await env.client.get_workflow_handle(
                session.handle.id,
                run_id=history.events[
                    0
                ].workflow_execution_started_event_attributes.continued_execution_run_id,
            ).fetch_history()
            _write("first_run_continued_as_new", first)

            # Handoff, a capability, a stopped reply and a queued reply stopped before it ran.
            agents = Session(env, task_queue, fakes, "recorded-agents")
            fakes.route_to["how do I upload?"] = AgentType.CONTENT_LIAISON
            fakes.capability_for["summarize sales.csv"] = Capability.SUMMARIZE_CSV
            release = fakes.hold["long story"] = asyncio.Event()
            await agents.send(AgentType.GUIDE, "how do I upload?", "a-1")
            await agents.send(AgentType.INSIGHTS_LIAISON, "summarize sales.csv", "a-2")
            streaming = await agents.send(AgentType.GUIDE, "long story", "a-3")
            queued = await agents.send(AgentType.GUIDE, "never mind", "a-4")
            await asyncio.wait_for(fakes.started["long story"].wait(), 10)
            for message_id in (queued.message_id, f"r-{streaming.message_id}"):
                await agents.handle.signal(
                    ChatSessionWorkflow.cancel_reply, CancelReplyInput(AgentType.GUIDE, message_id)
                )
            await agents.replies(8)
            release.set()
            await agents.handle.signal(ChatSessionWorkflow.close_session)
            await agents.handle.result()
            history = await agents.handle.fetch_history()
            _write("handoff_capability_cancel", history)

            # Pending turns crossing continue-as-new without their text (read back from the
            # history), then a close that lets the session's records go.
            texts = [f"queued {n}" for n in range(4)]
            budget = Session(env, task_queue, fakes, "recorded-budget")
            hold = fakes.hold[texts[0]] = asyncio.Event()
            for n, text in enumerate(texts):
                await budget.send(AgentType.GUIDE, text, f"b-{n}", max_turns_per_run=3)
            hold.set()
            await budget.replies(12)
            await budget.handle.signal(ChatSessionWorkflow.close_session)
            await budget.handle.result()
            history = await budget.handle.fetch_history()
            _write("pending_texts_read_back_closed", history)

            # Visible steps, a regenerated reply (clicked twice) and an edit of a message whose
            # reply is streaming.
            steps = Session(env, task_queue, fakes, "recorded-steps", visible_steps=True)
            fakes.capability_for["summarize my sales.csv"] = Capability.SUMMARIZE_CSV
            edited = fakes.hold["tell me everything"] = asyncio.Event()
            ran = await steps.send(AgentType.INSIGHTS_LIAISON, "summarize my sales.csv", "s-1")
            await steps.replies(13)
            regenerate = RegenerateInput(
                AgentType.INSIGHTS_LIAISON, f"r-{ran.message_id}", "s-2", seq=ran.seq
            )
            for _ in range(2):
                await steps.handle.execute_update(ChatSessionWorkflow.regenerate_reply, regenerate)
            await steps.replies(14)
            streaming = await steps.send(AgentType.GUIDE, "tell me everything", "s-3")
            await asyncio.wait_for(fakes.started["tell me everything"].wait(), 10)
            await steps.handle.execute_update(
                ChatSessionWorkflow.edit_message,
                EditMessageInput(AgentType.GUIDE, streaming.message_id, "tell me less", "s-4"),
            )
            await steps.replies(16)
            edited.set()
            await steps.handle.signal(ChatSessionWorkflow.close_session)
            await steps.handle.result()
            _write("steps_regenerate_edit", await steps.handle.fetch_history())


if __name__ == "__main__":
    asyncio.run(record())
