"""One half of a session that two releases share, run on the sources on its PYTHONPATH.

Run by test_previous_version.py in a process of its own whose PYTHONPATH holds one release's
sources only, so every import below is that release's: its workflow, payload types, converter
and test fakes. Only names that both releases share are used, positionally.

`begin ADDRESS TASK_QUEUE SESSION_ID`: answers a message in a liaison's conversation (with a
capability), accepts one the guide hands to a liaison and starts streaming its reply (held,
never finished), queues one more and stops its reply, prints `ready`, and waits to be killed.

`finish ADDRESS TASK_QUEUE SESSION_ID`: runs a worker until the session completes, then prints
one JSON line: the replies it started and recorded, as its own payload types hold them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from agents.capabilities import Capability
from agents.catalog import AgentType
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from tests.workflows.test_chat_session import Session
from workflows.chat_session import CancelReplyInput, ChatSessionWorkflow

try:  # the converter this release's workers use
    from foundations.payload_converter import DATA_CONVERTER
except ImportError:  # releases before payload fields were renamed used Temporal's own
    DATA_CONVERTER = DataConverter.default

HANDED_OVER = "how do I upload?"
STOPPED_BEFORE_IT_RAN = "never mind"


async def begin(session: Session) -> None:
    fakes = session.fakes
    fakes.capability_for["summarize sales.csv"] = Capability.SUMMARIZE_CSV
    fakes.route_to[HANDED_OVER] = AgentType.CONTENT_LIAISON
    fakes.hold[HANDED_OVER] = asyncio.Event()  # never set: this process never finishes it
    async with fake_worker(session.env.client, session.task_queue, fakes):
        await session.send(AgentType.INSIGHTS_LIAISON, "summarize sales.csv", "begun-1")
        await session.replies(1)
        await session.send(AgentType.GUIDE, HANDED_OVER, "begun-2")
        queued = await session.send(AgentType.GUIDE, STOPPED_BEFORE_IT_RAN, "begun-3")
        await session.handle.signal(
            ChatSessionWorkflow.cancel_reply, CancelReplyInput(AgentType.GUIDE, queued.message_id)
        )
        await asyncio.wait_for(fakes.started[HANDED_OVER].wait(), 20)
        print("ready", flush=True)  # the test that runs this process waits for it
        await asyncio.Event().wait()


async def finish(session: Session) -> None:
    fakes = session.fakes
    async with fake_worker(session.env.client, session.task_queue, fakes):
        # Polled: a long poll for the result can come back empty from a busy test server.
        while (await session.handle.describe()).status is WorkflowExecutionStatus.RUNNING:
            await asyncio.sleep(0.1)
    outcome = {
        "started": [dataclasses.asdict(reply) for reply in fakes.replies_started],
        "recorded": [dataclasses.asdict(reply) for reply in fakes.replies_recorded],
        "capabilities_run": len(fakes.capabilities_run),
    }
    print(json.dumps(outcome), flush=True)


async def main(step: str, address: str, task_queue: str, session_id: str) -> None:
    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    env = WorkflowEnvironment.from_client(client)
    session = Session(env, task_queue, FakeTurnActivities(), session_id)
    await {"begin": begin, "finish": finish}[step](session)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
