"""Payload encryption: a chat's histories are ciphertext in Temporal, and deleting the chat's
key makes them unreadable. Real Redis, Temporal's time-skipping server, the real workflow."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as redis
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    WorkflowSerializationContext,
)
from temporalio.testing import WorkflowEnvironment

from agents.catalog import AgentType
from foundations.payload_codec import (
    ENCODING,
    KEY_ID_METADATA,
    ChatPayloadCodec,
    PayloadKeyGone,
    encrypted_data_converter,
)
from foundations.payload_keys import (
    SHARED_KEY_ID,
    PayloadKeyStore,
    master_key,
    open_payload_keys,
)
from foundations.settings import Settings
from tests.payload_sizes import payloads, run_histories
from tests.workflows.fakes import FakeTurnActivities, fake_worker
from workflows.chat_session import (
    ChatSessionInput,
    ChatSessionWorkflow,
    SubmitMessageInput,
    session_search_attributes,
    session_workflow_id,
)


@pytest.fixture
async def keys(lone_redis_url: str) -> AsyncIterator[PayloadKeyStore]:
    client = redis.Redis.from_url(lone_redis_url)
    # One command first, as a worker's start-up would: the Redis client imports some modules on
    # its first command, and the workflow sandbox warns about imports after workflows loaded.
    await client.get("payload-key:warm-up")
    yield PayloadKeyStore(client, cache_seconds=60)
    await client.aclose()


def context(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


def plain(text: str) -> Payload:
    return DataConverter.default.payload_converter.to_payloads([text])[0]


async def test_a_payload_is_sealed_under_its_chats_key(keys: PayloadKeyStore) -> None:
    codec = ChatPayloadCodec(keys).with_context(context("chat-session-a"))
    [sealed] = await codec.encode([plain("tangerine")])
    assert b"tangerine" not in sealed.SerializeToString()
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"chat-session-a"
    # Decoding needs no context: the key id travels with the payload.
    assert await ChatPayloadCodec(keys).decode([sealed]) == [plain("tangerine")]


async def test_an_activity_of_a_chat_uses_the_chats_key(keys: PayloadKeyStore) -> None:
    activity = ActivitySerializationContext(
        namespace="default",
        activity_id="1",
        activity_type="generate_reply",
        activity_task_queue="q",
        workflow_id="chat-session-b",
        workflow_type="ChatSessionWorkflow",
        is_local=False,
    )
    [sealed] = await ChatPayloadCodec(keys).with_context(activity).encode([plain("x")])
    assert sealed.metadata[KEY_ID_METADATA] == b"chat-session-b"
    [outside] = await ChatPayloadCodec(keys).encode([plain("x")])
    assert outside.metadata[KEY_ID_METADATA] == SHARED_KEY_ID.encode()


async def test_tampered_or_relabelled_ciphertext_is_refused(keys: PayloadKeyStore) -> None:
    codec = ChatPayloadCodec(keys).with_context(context("chat-session-c"))
    await ChatPayloadCodec(keys).with_context(context("chat-session-d")).encode([plain("x")])
    [sealed] = await codec.encode([plain("tangerine")])
    tampered = Payload()
    tampered.CopyFrom(sealed)
    tampered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID_METADATA] = b"chat-session-d"
    for bad in (tampered, relabelled):
        with pytest.raises(ValueError, match="failed authentication"):
            await codec.decode([bad])


async def test_payloads_recorded_before_encryption_still_decode(keys: PayloadKeyStore) -> None:
    old = plain("recorded before encryption")
    assert await ChatPayloadCodec(keys).decode([old]) == [old]


async def test_a_decode_only_codec_reads_sealed_payloads_and_writes_plain_ones(
    keys: PayloadKeyStore,
) -> None:
    [sealed] = (
        await ChatPayloadCodec(keys).with_context(context("chat-session-g")).encode([plain("x")])
    )
    reader = ChatPayloadCodec(keys, seal=False).with_context(context("chat-session-g"))
    assert await reader.decode([sealed]) == [plain("x")]
    assert await reader.encode([plain("y")]) == [plain("y")]


async def test_a_deleted_key_is_forgotten_by_the_deleting_process(keys: PayloadKeyStore) -> None:
    codec = ChatPayloadCodec(keys).with_context(context("chat-session-e"))
    [sealed] = await codec.encode([plain("tangerine")])
    assert await keys.delete("chat-session-e")
    assert not await keys.delete("chat-session-e")
    with pytest.raises(PayloadKeyGone):
        await codec.decode([sealed])


async def test_processes_racing_to_make_a_chats_key_agree(lone_redis_url: str) -> None:
    clients = [redis.Redis.from_url(lone_redis_url) for _ in range(5)]
    stores = [PayloadKeyStore(client, cache_seconds=60) for client in clients]
    made = await asyncio.gather(*(store.get_or_create("chat-session-f") for store in stores))
    assert len(set(made)) == 1 and len(made[0]) == 32
    for client in clients:
        await client.aclose()


async def test_a_chat_session_history_is_ciphertext_and_shredded_with_its_key(
    workflow_env: WorkflowEnvironment, keys: PayloadKeyStore, lone_redis_url: str
) -> None:
    config = workflow_env.client.config()
    config["data_converter"] = encrypted_data_converter(keys)
    encrypted = Client(**config)
    secret = f"my account number is {uuid.uuid4().hex}"
    session_id = uuid.uuid4().hex
    workflow_id = session_workflow_id(session_id)
    task_queue = f"test-{uuid.uuid4()}"
    fakes = FakeTurnActivities()
    async with fake_worker(encrypted, task_queue, fakes):
        ack = await encrypted.execute_update_with_start_workflow(
            ChatSessionWorkflow.submit_message,
            SubmitMessageInput(AgentType.GUIDE, secret, "c-1"),
            start_workflow_operation=WithStartWorkflowOperation(
                ChatSessionWorkflow.run,
                ChatSessionInput(session_id, "user-1", chat_list=True),
                id=workflow_id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=session_search_attributes(session_id, "user-1"),
            ),
        )
        assert ack.seq == 1
        async with asyncio.timeout(20):
            while not fakes.replies_recorded:
                await asyncio.sleep(0.02)
        handle: WorkflowHandle[ChatSessionWorkflow, None] = encrypted.get_workflow_handle_for(
            ChatSessionWorkflow.run, workflow_id
        )
        # The workflow decrypted what it was sent: its activities saw the plain text.
        assert fakes.replies_recorded[0].content == f"reply to {secret}"
        await handle.signal(ChatSessionWorkflow.close_session)
        await handle.result()

    # Read with the raw client, which has no codec: nothing of the message is visible.
    histories = await run_histories(workflow_env.client, workflow_id)
    events = [event for history in histories for event in history.events]
    stored = [payload for event in events for payload in payloads(event)]
    # Except the chat's title, a search attribute taken from the first message for the chat
    # list (docs/privacy.md): Temporal must read it to index it. Deleting the chat removes it.
    titles = [
        event
        for event in events
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and "ChatTitle"
        in event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    ]
    assert [secret.encode() in event.SerializeToString() for event in titles] == [True]
    raw = b"".join(event.SerializeToString() for event in events if event not in titles)
    assert stored and secret.encode() not in raw and b"reply to" not in raw
    sealed = [p for p in stored if p.metadata.get("encoding") == ENCODING]
    assert sealed and all(p.metadata[KEY_ID_METADATA] == workflow_id.encode() for p in sealed)
    # What stays readable is what Temporal itself must read: search attributes, and the SDK's
    # own bookkeeping in markers (activity ids and types, patch ids), never message text.
    bookkeeping = {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,  # the search attributes it starts with
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        EventType.EVENT_TYPE_MARKER_RECORDED,  # local activity / patch details, not results
    }
    for event in events:
        for payload in payloads(event):
            if payload.metadata.get("encoding") != ENCODING:
                assert event.event_type in bookkeeping

    # With the key, the history reads back: the message is in it.
    codec = ChatPayloadCodec(keys)
    opened = b"".join(p.SerializeToString() for p in await codec.decode(sealed))
    assert secret.encode() in opened

    # Shred: delete the chat's key. A process that never cached it cannot read a payload.
    assert await keys.delete(workflow_id)
    other_process = redis.Redis.from_url(lone_redis_url)
    cold = ChatPayloadCodec(PayloadKeyStore(other_process, cache_seconds=60))
    for payload in sealed:
        with pytest.raises(PayloadKeyGone):
            await cold.decode([payload])
    await other_process.aclose()
    # And the workflow's own result no longer decodes for a client with the codec.
    with pytest.raises(PayloadKeyGone):
        await encrypted.get_workflow_handle(workflow_id).result()


async def test_with_a_master_key_redis_alone_holds_no_usable_key(
    lone_redis_url: str, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(lone_redis_url)
    key_file = tmp_path / "master.key"
    key_file.write_text(os.urandom(32).hex() + "\n")
    settings = Settings(payload_master_key_file=str(key_file), payload_key_cache_seconds=0)
    wrapped = open_payload_keys(settings, client)
    data_key = await wrapped.get_or_create("chat-session-m")
    raw = await client.get("payload-key:chat-session-m")
    assert isinstance(raw, bytes)
    stored = raw.decode()
    assert stored.startswith("w1:") and data_key.hex() not in stored
    # Another process with the same file reads it; one without the file, or with another
    # master key, cannot.
    assert await open_payload_keys(settings, client).get("chat-session-m") == data_key
    with pytest.raises(ValueError, match="PAYLOAD_MASTER_KEY_FILE"):
        await PayloadKeyStore(client, 0).get("chat-session-m")
    with pytest.raises(ValueError, match="another master key"):
        await PayloadKeyStore(client, 0, os.urandom(32)).get("chat-session-m")
    # A key stored before the master key was configured is still read.
    old = await PayloadKeyStore(client, 0).get_or_create("chat-session-n")
    assert await wrapped.get("chat-session-n") == old
    await client.aclose()


def test_a_bad_master_key_file_is_named(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_text("abcd")
    not_hex = tmp_path / "text.key"
    not_hex.write_text("correct horse battery staple")
    for path in (tmp_path / "missing.key", short, not_hex):
        with pytest.raises(ValueError, match=str(path)):
            master_key(str(path))
