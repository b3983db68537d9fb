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
import json
import os
import sys
import uuid
from pathlib import Path

import redis.asyncio as redis
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHistory
from temporalio.common import WorkflowIDConflictPolicy

from agents.capabilities import Capability
from agents.catalog import AgentType
from foundations.clients import temporal_data_converter
from foundations.payload_keys import PayloadKeyStore
from foundations.settings import Settings
from tests.conftest import start_workflow_env
from tests.lone_redis import lone_redis
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from tests.workflows.test_chat_session import Session
from workflows.chat_session import (
    CancelReplyInput,
    ChatSessionInput,
    ChatSessionWorkflow,
    SubmitMessageInput,
    session_search_attributes,
    session_workflow_id,
)
from workflows.session_payloads import is_session_workflow_id

HISTORIES = Path(__file__).parent / "histories"
FORCE = "--force" in sys.argv
# Change this with the payload names (a field renamed in a payload type): the histories of the
# earlier names stay committed next to those of the new ones.
RECORDED_WITH = "conversation_author"


def _path(scenario: str) -> Path:
    return HISTORIES / f"{scenario}.{RECORDED_WITH}.json"


def _write(scenario: str, history: WorkflowHistory) -> None:
    path = _path(scenario)
    if FORCE or not path.exists():
        path.write_text(history.to_json())


def replay_keys(history: Path) -> Path:
    """The data keys an encrypted history needs, committed beside it (`{key id: hex}`).

    Test keys only: they protect nothing but these recorded test messages."""
    return history.with_suffix(".keys")


async def record_encrypted(env: Client, fakes: FakeTurnActivities) -> None:
    """A session recorded with the worker's converter (payload encryption on), and the data key
    that opens it written next to it, so the replay test can give its codec that key."""
    path = _path("encrypted_closed")
    if path.exists() and not FORCE:
        return
    session_id = "recorded-encrypted"
    key_id = session_workflow_id(session_id)
    with lone_redis() as url:
        keys_redis = redis.Redis.from_url(url)
        key = os.urandom(32)
        await keys_redis.set(f"payload-key:{key_id}", key.hex())
        config = env.config()
        config["data_converter"] = temporal_data_converter(
            Settings(), PayloadKeyStore(keys_redis, 60), is_session_workflow_id
        )
        encrypted = Client(**config)
        task_queue = f"record-{uuid.uuid4()}"
        recorded = len(fakes.replies_recorded)
        async with fake_worker(encrypted, task_queue, fakes):
            for conversation, text in (
                (AgentType.GUIDE, "a secret"),
                (AgentType.CONTENT_LIAISON, "another secret"),
            ):
                await encrypted.execute_update_with_start_workflow(
                    ChatSessionWorkflow.submit_message,
                    SubmitMessageInput(conversation, text, f"e-{conversation.value}"),
                    start_workflow_operation=WithStartWorkflowOperation(
                        ChatSessionWorkflow.run,
                        ChatSessionInput(session_id, "user-1", lean_turn=True),
                        id=key_id,
                        task_queue=task_queue,
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                        search_attributes=session_search_attributes(session_id, "user-1"),
                    ),
                )
            async with asyncio.timeout(20):
                while len(fakes.replies_recorded) < recorded + 2:
                    await asyncio.sleep(0.02)
            handle = encrypted.get_workflow_handle(key_id)
            await handle.signal(ChatSessionWorkflow.close_session)
            await handle.result()
            history = await handle.fetch_history()
        await keys_redis.aclose()
    path.write_text(history.to_json())
    replay_keys(path).write_text(json.dumps({key_id: key.hex()}, indent=2) + "\n")


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

        await record_encrypted(env.client, fakes)


if __name__ == "__main__":
    asyncio.run(record())
