"""Committed histories must replay against today's workflow code: a failure here means a change
would break sessions that are running in production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis.asyncio as redis
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from foundations.clients import temporal_data_converter
from foundations.payload_codec import ENCODING
from foundations.payload_converter import DATA_CONVERTER
from foundations.payload_keys import PayloadKeyStore
from foundations.settings import Settings
from tests.payload_sizes import payloads
from tests.workflows.record_histories import replay_keys
from workers.composition import WORKFLOW_RUNNER
from workflows.chat_session import ChatSessionWorkflow
from workflows.session_payloads import is_session_workflow_id

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_committed() -> None:
    assert len(HISTORIES) >= 2


def test_an_encrypted_history_is_committed_with_its_keys() -> None:
    encrypted = [path for path in HISTORIES if replay_keys(path).exists()]
    assert encrypted
    for path in encrypted:
        history = WorkflowHistory.from_json("encrypted", path.read_text())
        stored = [p for event in history.events for p in payloads(event)]
        assert any(p.metadata.get("encoding") == ENCODING for p in stored)
        assert not any(b"secret" in p.SerializeToString() for p in stored)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path, request: pytest.FixtureRequest) -> None:
    history = WorkflowHistory.from_json(f"chat-session-{path.stem}", path.read_text())
    keys = replay_keys(path)
    client: redis.Redis | None = None
    converter: DataConverter = DATA_CONVERTER
    if keys.exists():
        # An encrypted history replays with the worker's converter and the chat's data key,
        # committed beside it (a test key), put where the codec looks for it.
        client = redis.Redis.from_url(request.getfixturevalue("lone_redis_url"))
        for key_id, key in json.loads(keys.read_text()).items():
            await client.set(f"payload-key:{key_id}", key)
        converter = temporal_data_converter(
            Settings(), PayloadKeyStore(client, 60), is_session_workflow_id
        )
    try:
        result = await Replayer(
            workflows=[ChatSessionWorkflow],
            workflow_runner=WORKFLOW_RUNNER,
            data_converter=converter,
        ).replay_workflow(history, raise_on_replay_failure=False)
    finally:
        if client is not None:
            await client.aclose()
    assert result.replay_failure is None, result.replay_failure
