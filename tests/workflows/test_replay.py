"""Committed histories must replay against today's workflow code: a failure here means a change
would break sessions that are running in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from foundations.payload_converter import DATA_CONVERTER
from workers.composition import WORKFLOW_RUNNER
from workflows.chat_session import ChatSessionWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_committed() -> None:
    assert len(HISTORIES) >= 2


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"chat-session-{path.stem}", path.read_text())
    result = await Replayer(
        workflows=[ChatSessionWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
        data_converter=DATA_CONVERTER,
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
