"""A session begun by an earlier version of the code, left mid-reply for the current one to finish.

Run by test_previous_version.py in a process of its own whose PYTHONPATH holds only the earlier
version's sources, so every import below is that version's: its workflow, its payload types,
its Temporal converter, its test fakes. Arguments: the Temporal address, the task queue and the
session id. It answers one message in a liaison's conversation (with a capability), accepts a
message that the guide hands to a liaison and starts streaming its reply (held, never
finished), queues one more message and stops its reply, prints `ready`, and waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from agents.capabilities import Capability
from agents.catalog import AgentType
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from tests.workflows.test_chat_session import Session
from workflows.chat_session import CancelReplyInput, ChatSessionWorkflow

HANDED_OVER = "how do I upload?"
STOPPED_BEFORE_IT_RAN = "never mind"


async def main(address: str, task_queue: str, session_id: str) -> None:
    env = WorkflowEnvironment.from_client(await Client.connect(address))
    fakes = FakeTurnActivities()
    fakes.capability_for["summarize sales.csv"] = Capability.SUMMARIZE_CSV
    fakes.route_to[HANDED_OVER] = AgentType.CONTENT_LIAISON
    fakes.hold[HANDED_OVER] = asyncio.Event()  # never set: this version never finishes it
    async with fake_worker(env.client, task_queue, fakes):
        session = Session(env, task_queue, fakes, session_id)
        await session.send(AgentType.INSIGHTS_LIAISON, "summarize sales.csv", "old-1")
        await session.replies(1)
        await session.send(AgentType.GUIDE, HANDED_OVER, "old-2")
        queued = await session.send(AgentType.GUIDE, STOPPED_BEFORE_IT_RAN, "old-3")
        await session.handle.signal(
            ChatSessionWorkflow.cancel_reply, CancelReplyInput(AgentType.GUIDE, queued.message_id)
        )
        await asyncio.wait_for(fakes.started[HANDED_OVER].wait(), 20)
        print("ready", flush=True)  # the test that runs this process waits for it
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
