"""A session begun by the previous version finishes on this one.

The previous version (PREVIOUS_VERSION, the last commit whose payloads said `agent_type` for
both the conversation and the author) runs in a process of its own, from its own sources taken
out of git, against the same time-skipping test server: it answers a message, accepts one
that the guide hands to a liaison and starts its reply, queues a third and stops it. Then it
is killed mid-reply, as a deployment that does not wait would leave it, and a worker of this
version takes over the session: it replays the history the previous version wrote, runs the
reply activity that version scheduled (the input in its old shape) and finishes the session.

What it proves: the previous version's own code wrote the history (update and signal inputs,
route decisions, a scheduled reply, all with `agent_type`), and this version replays all of it
without a nondeterminism error, gives every old value its meaning (the handed-over reply runs
and is recorded with the liaison as author in the guide's conversation, the stopped message
stays stopped), answers a new message and completes. What it does not: the activities are the
workflow tests' fakes (the decoding under test is the worker's, not the activities' code); it
covers one earlier version, the one before the rename (older shapes: the committed histories);
and not the reverse, a worker of the previous version picking up work this one wrote, which
fails (it cannot read the new names), so a deployment replaces every worker before new ones
take work. It needs the git history; a checkout without it skips this test.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from agents.catalog import AgentType
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from tests.workflows.test_chat_session import Session
from workflows.chat_session import ChatSessionWorkflow

ROOT = Path(__file__).resolve().parents[2]
# The last commit before `conversation` and `author` were named apart in the payloads.
PREVIOUS_VERSION = "e6b3e68a27c1aeb526ce673008553929c1bea27a"
PREVIOUS_SESSION = Path(__file__).with_name("previous_version_session.py")
GUIDE = AgentType.GUIDE
CONTENT = AgentType.CONTENT_LIAISON
INSIGHTS = AgentType.INSIGHTS_LIAISON


@pytest.fixture(scope="module")
def previous_sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The previous version's sources, as git holds them."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_VERSION],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"this checkout has no git history holding {PREVIOUS_VERSION}")
    sources = tmp_path_factory.mktemp("previous-version")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(sources, filter="data")
    yield sources


async def _run_previous_version(
    env: WorkflowEnvironment, sources: Path, task_queue: str, session_id: str
) -> asyncio.subprocess.Process:
    """Start the previous version's session and return once its reply is streaming."""
    log = sources / "previous-version.log"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PREVIOUS_SESSION),
        env.client.service_client.config.target_host,
        task_queue,
        session_id,
        cwd=sources,
        env={**os.environ, "PYTHONPATH": str(sources)},
        stdout=asyncio.subprocess.PIPE,
        stderr=log.open("wb"),
    )
    if not await _said_ready(process):
        process.kill()
        await process.wait()
        errors = log.read_text(errors="replace").splitlines()[-15:]
        pytest.fail("the previous version got no session under way:\n" + "\n".join(errors))
    return process


async def _said_ready(process: asyncio.subprocess.Process) -> bool:
    """Whether the process printed `ready` (among Temporal's own log lines) within a minute."""
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            while line := await process.stdout.readline():
                if line.strip() == b"ready":
                    return True
    except TimeoutError:
        pass
    return False


async def test_a_session_begun_by_the_previous_version_finishes_on_this_one(
    workflow_env: WorkflowEnvironment, previous_sources: Path
) -> None:
    task_queue = f"test-{uuid.uuid4()}"
    session_id = uuid.uuid4().hex
    previous = await _run_previous_version(workflow_env, previous_sources, task_queue, session_id)
    # Gone mid-reply: its reply activity is left to time out and be retried.
    previous.kill()
    await previous.wait()

    fakes = FakeTurnActivities()
    async with fake_worker(workflow_env.client, task_queue, fakes):
        session = Session(workflow_env, task_queue, fakes, session_id)
        # This version's first workflow task replays everything the previous one wrote.
        ack = await session.send(GUIDE, "and now?", "new-1")
        assert not ack.duplicate
        await session.handle.signal(ChatSessionWorkflow.close_session)
        await asyncio.wait_for(session.handle.result(), 60)

    assert (await session.handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    # The reply the previous version scheduled ran here, its input read in the old shape: the
    # liaison writes it, in the guide's conversation.
    [handed_over, new] = fakes.replies_started
    assert (handed_over.conversation, handed_over.author, handed_over.message) == (
        GUIDE,
        CONTENT,
        "how do I upload?",
    )
    assert (new.conversation, new.author, new.message) == (GUIDE, GUIDE, "and now?")
    # Recorded with the author from the route decision the previous version recorded; the
    # message it stopped before its reply ran stays stopped; the new message is answered.
    recorded = [(r.conversation, r.author, r.content, r.cancelled) for r in fakes.replies_recorded]
    assert recorded == [
        (GUIDE, CONTENT, "reply to how do I upload?", False),
        (GUIDE, GUIDE, "", True),
        (GUIDE, GUIDE, "reply to and now?", False),
    ]
    # Nothing the previous version finished ran again.
    assert fakes.capabilities_run == []
    assert fakes.recorded_users.keys() == {ack.message_id}
