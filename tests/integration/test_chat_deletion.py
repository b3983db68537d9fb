"""Deleting a chat on the real stack: its Redis keys, data key and Temporal executions go, its
share links stop opening, and a deletion interrupted by a killed worker finishes on another."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse

import httpx
import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from devstack.services import Stack, free_port, start_api, start_worker
from tests.integration.owned_chats import chat_keys, device, new_chat
from tests.integration.redis_proxy import RedisProxy
from tests.stack import RunningStack
from workflows.chat_deletion import deletion_workflow_id
from workflows.session_payloads import session_workflow_id

logger = logging.getLogger(__name__)


async def runs(temporal: Client, chat_id: str) -> list[str]:
    query = f"WorkflowId = '{session_workflow_id(chat_id)}'"
    return [execution.run_id async for execution in temporal.list_workflows(query)]


async def deletion_finished(temporal: Client, chat_id: str, within: float = 120) -> None:
    handle = temporal.get_workflow_handle(deletion_workflow_id(chat_id))
    async with asyncio.timeout(within):
        while (await handle.describe()).status != WorkflowExecutionStatus.COMPLETED:
            await asyncio.sleep(0.1)


async def assert_gone(raw: Client, redis_url: str, chat_id: str, run_ids: list[str]) -> None:
    # Only the tombstone names the chat now: no message, no upload, no record, no data key.
    assert await chat_keys(redis_url, chat_id) == {f"chat-deleting:{chat_id}"}
    # Every run of its session workflow is gone from Temporal, read with a raw client.
    assert run_ids
    for run_id in run_ids:
        with pytest.raises(RPCError) as missing:
            await raw.get_workflow_handle(
                session_workflow_id(chat_id), run_id=run_id
            ).fetch_history()
        assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_a_deleted_chat_is_gone_from_redis_and_temporal(
    stack: RunningStack, raw_temporal_client: Client
) -> None:
    temporal_client = raw_temporal_client
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=60) as http:
        chat = await new_chat(http, stack.redis_url)
        other, _ = await device(stack.redis_url)
        before = await chat_keys(stack.redis_url, chat.chat_id)
        assert f"payload-key:chat-session-{chat.chat_id}" in before
        assert any(key.endswith(":history") for key in before)
        run_ids = await runs(temporal_client, chat.chat_id)
        # Even before the deletion, a client without the codec reads no message in Temporal.
        before_history = await temporal_client.get_workflow_handle(
            session_workflow_id(chat.chat_id)
        ).fetch_history()
        raw = b"".join(event.SerializeToString() for event in before_history.events)
        assert b"binary/encrypted" in raw and b"my account is 1234" not in raw
        shared = await http.post(
            f"/api/chats/{chat.chat_id}/shares",
            json={"conversation": "guide", "expires_in_seconds": 600},
            headers=chat.owner,
        )
        assert shared.status_code == 201, shared.text
        share = f"/api/shares/{shared.json()['share_id']}"
        assert (await http.get(share)).status_code == 200

        # Someone else cannot delete it: the same 404 as for no chat at all.
        refused = await http.delete(f"/api/chats/{chat.chat_id}", headers=other)
        assert refused.status_code == 404
        assert (await http.get(share)).status_code == 200

        started = time.monotonic()
        deleting = await http.delete(f"/api/chats/{chat.chat_id}", headers=chat.owner)
        assert deleting.status_code == 202
        assert deleting.json() == {"chat_id": chat.chat_id, "deleting": True}
        # From the answer on, the chat is not found, on every route, and its token is dead.
        for answer in (
            await http.get(f"/api/chats/{chat.chat_id}/export", headers=chat.owner),
            await http.get(f"/api/chats/{chat.chat_id}/shares", headers=chat.owner),
            await http.delete(f"/api/chats/{chat.chat_id}", headers=chat.owner),
            await http.get(share),
        ):
            assert answer.status_code == 404, answer.text
        history = await http.get(
            "/api/chat/conversation/history", params={"session_token": chat.session_token}
        )
        assert history.status_code == 401

        tombstone = {f"chat-deleting:{chat.chat_id}"}
        async with asyncio.timeout(30):
            while await chat_keys(stack.redis_url, chat.chat_id) != tombstone:
                await asyncio.sleep(0.05)
        redis_gone = time.monotonic() - started
        await deletion_finished(temporal_client, chat.chat_id)
        elapsed = time.monotonic() - started
        await assert_gone(temporal_client, stack.redis_url, chat.chat_id, run_ids)
        assert (await http.get(share)).status_code == 404
    logger.info(
        "DELETE to Redis keys gone: %.2f s; to deletion finished: %.2f s", redis_gone, elapsed
    )


@asynccontextmanager
async def worker(stack: RunningStack, env: dict[str, str]) -> AsyncIterator[Stack]:
    processes = Stack()
    start_worker(processes, env, stack.log_dir)
    try:
        yield processes
    finally:
        await asyncio.to_thread(processes.stop)


@pytest.mark.timeout(300)
async def test_a_deletion_interrupted_by_a_killed_worker_finishes_on_another(
    stack: RunningStack, raw_temporal_client: Client
) -> None:
    temporal_client = raw_temporal_client
    port = urlparse(stack.redis_url).port
    assert port is not None
    proxy = RedisProxy(port)
    await proxy.start()
    # A task queue of the test's own, so that only the workers started here run the deletion.
    env = {**stack.env, "TASK_QUEUE": f"deletion-{uuid.uuid4().hex[:8]}"}
    api = Stack()
    api_port = free_port()
    await asyncio.to_thread(start_api, api, env, api_port, stack.log_dir)

    def worker_env() -> dict[str, str]:
        return {
            **env,
            "WORKER_METRICS_PORT": str(free_port()),
            "TEMPORAL_METRICS_PORT": str(free_port()),
        }

    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=60) as http:
            first_env = {**worker_env(), "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"}
            async with worker(stack, first_env) as first:
                chat = await new_chat(http, stack.redis_url)
                run_ids = await runs(temporal_client, chat.chat_id)
                # The first worker's sweep stalls on its first SCAN: it is mid-step when killed.
                proxy.hold = b"SCAN"
                deleting = await http.delete(f"/api/chats/{chat.chat_id}", headers=chat.owner)
                assert deleting.status_code == 202
                handle = temporal_client.get_workflow_handle(deletion_workflow_id(chat.chat_id))
                async with asyncio.timeout(60):
                    while True:
                        pending = (await handle.describe()).raw_description.pending_activities
                        if (
                            proxy.held
                            and pending
                            and pending[0].activity_type.name == "sweep_chat"
                            and pending[0].state
                            == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                        ):
                            break
                        await asyncio.sleep(0.1)
                first.processes[0][1].send_signal(signal.SIGKILL)
                await asyncio.to_thread(first.processes[0][1].wait)
                proxy.hold = None
                # The chat's messages are still there: the sweep never ran.
                assert any(
                    key.endswith(":history")
                    for key in await chat_keys(stack.redis_url, chat.chat_id)
                )
            async with worker(stack, worker_env()):
                await deletion_finished(temporal_client, chat.chat_id)
            await assert_gone(temporal_client, stack.redis_url, chat.chat_id, run_ids)
            attempts = [
                event.activity_task_started_event_attributes.attempt
                async for event in handle.fetch_history_events()
                if event.HasField("activity_task_started_event_attributes")
            ]
            assert max(attempts) >= 2, "the interrupted step was never run again"
    finally:
        await asyncio.to_thread(api.stop)
        await proxy.stop()
