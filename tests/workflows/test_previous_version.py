"""A session one release begins, the other finishes: both ways across the payload rename.

The previous version (PREVIOUS_VERSION, the last commit whose payloads said `agent_type` for
both the conversation and the author) runs from its own sources, taken out of git, in processes
of their own against the same time-skipping test server (previous_version_session.py). One
release begins a session: it answers a message, accepts one that the guide hands to a liaison
and starts its reply, queues a third and stops it, and is killed mid-reply, as a deployment
that does not wait leaves it. A worker of the other release then takes over: it replays the
history the first one wrote, runs the reply activity that one scheduled (retried after the
heartbeat timeout) and completes the session; this release also answers a new message first. Old to new is a deploy;
new to old is a rolling deploy's overlap, where both run side by side (docs/operations.md).

What they prove: each release's own code wrote the history it hands over; the other replays all
of it without a nondeterminism error and gives every value its meaning (the handed-over reply
runs and is recorded with the liaison as author, in the guide's conversation; the stopped
message stays stopped). What they do not: the activities are the workflow tests' fakes (the
decoding under test is the worker's, not the activities' code); only the release just before
the rename is run (older shapes are covered by the committed histories); the edge's part is
played by a client with the edge's converter, not by the edge. They need the git history; a
checkout without it skips them.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
# Each wait: generous, as three processes share the test server on a busy machine; no test
# here waits for a timer it could skip.
WAIT_SECONDS = 100
pytestmark = pytest.mark.timeout(4 * WAIT_SECONDS)
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


@dataclass
class Shared:
    """A session that two releases share: the test server, the task queue, the session id."""

    env: WorkflowEnvironment
    logs: Path
    task_queue: str = field(default_factory=lambda: f"test-{uuid.uuid4()}")
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def session(self, fakes: FakeTurnActivities) -> Session:
        return Session(self.env, self.task_queue, fakes, self.session_id)


async def _start(
    shared: Shared, sources: Path, step: str
) -> tuple[asyncio.subprocess.Process, Path]:
    """Run one step of previous_version_session.py on `sources`; returns it and its log."""
    log = shared.logs / f"{step}.log"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PREVIOUS_SESSION),
        step,
        shared.env.client.service_client.config.target_host,
        shared.task_queue,
        shared.session_id,
        cwd=sources,
        env={**os.environ, "PYTHONPATH": str(sources)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return process, log


async def _begin(shared: Shared, sources: Path) -> None:
    """Begin the session on `sources`, leave it mid-reply, and kill the process."""
    process, log = await _start(shared, sources, "begin")
    ready = await _line(process, lambda line: line == b"ready", log)
    # Gone mid-reply, as a deployment that does not wait leaves it: the reply is retried.
    process.kill()
    await process.wait()
    if ready is None:
        pytest.fail("no session under way:\n" + _tail(log))


async def _line(
    process: asyncio.subprocess.Process, wanted: Callable[[bytes], bool], log: Path
) -> bytes | None:
    """The first line of the process's output that is `wanted` (not one of Temporal's own
    log lines, kept in `log`), within WAIT_SECONDS; None if there is none."""
    assert process.stdout is not None
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while line := await process.stdout.readline():
                if wanted(line.strip()):
                    return line.strip()
                with log.open("ab") as kept:
                    kept.write(line)
    except TimeoutError:
        pass
    return None


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-15:])


async def test_a_session_begun_by_the_previous_version_finishes_on_this_one(
    workflow_env: WorkflowEnvironment, previous_sources: Path, tmp_path: Path
) -> None:
    shared = Shared(workflow_env, tmp_path)
    await _begin(shared, previous_sources)

    fakes = FakeTurnActivities()
    async with fake_worker(workflow_env.client, shared.task_queue, fakes):
        session = shared.session(fakes)
        # This version's first workflow task replays everything the previous one wrote.
        ack = await session.send(GUIDE, "and now?", "new-1")
        assert not ack.duplicate
        await session.handle.signal(ChatSessionWorkflow.close_session)
        async with asyncio.timeout(WAIT_SECONDS):
            # Polled: a long poll for the result can come back empty from a busy test server.
            while (await session.handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                await asyncio.sleep(0.1)

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


async def test_a_session_begun_here_finishes_on_a_worker_of_the_previous_version(
    workflow_env: WorkflowEnvironment, previous_sources: Path, tmp_path: Path
) -> None:
    """A rolling deploy runs both releases' workers side by side (docs/operations.md)."""
    shared = Shared(workflow_env, tmp_path)
    await _begin(shared, ROOT)

    previous, log = await _start(shared, previous_sources, "finish")
    finished = asyncio.create_task(_line(previous, lambda line: line.startswith(b"{"), log))
    try:
        session = shared.session(FakeTurnActivities())
        await session.handle.signal(ChatSessionWorkflow.close_session)
        line = await finished
    finally:
        if previous.returncode is None:
            previous.kill()
        await previous.wait()
    if line is None:
        pytest.fail("the previous version did not finish the session:\n" + _tail(log))
    outcome = json.loads(line)
    # The previous release's own payload types: `agent_type` is the author of a reply being
    # generated and the conversation of one being recorded.
    started = [(r["conversation"], r["agent_type"], r["message"]) for r in outcome["started"]]
    assert started == [("guide", "content_liaison", "how do I upload?")]
    recorded = [
        (r["agent_type"], r["author"], r["content"], r["cancelled"]) for r in outcome["recorded"]
    ]
    assert recorded == [
        ("guide", "content_liaison", "reply to how do I upload?", False),
        ("guide", "guide", "", True),
    ]
    assert outcome["capabilities_run"] == 0
    assert (await session.handle.describe()).status is WorkflowExecutionStatus.COMPLETED
