"""Redis and Temporal failing under open sockets, on a stack of this module's own whose API
reaches Redis through a proxy that can fail one kind of command. The shared `stack` fixture is
never disturbed.

Each outage must end a socket's wait one way or the other: the events keep coming, or the
socket is closed with 1013 and a reason (the page then resumes from its last event id). A
socket left open and silent is the failure these tests look for."""

from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis.asyncio as redis
import websockets
from temporalio.service import RPCError

from api.agent_sdk import SubmitTimedOut
from api.main import create_app
from devstack.services import start_api, start_redis, start_worker
from foundations.settings import Settings
from tests.integration.chat_client import ChatClient, Frame, connect
from tests.integration.redis_proxy import RedisProxy
from tests.stack import RunningStack, running_stack

pytestmark = pytest.mark.integration

GUIDE = "/api/ws/guide"
# Paced so a reply streams for a few seconds: long enough to restart Redis in the middle.
DELTA_DELAY_MS = "60"
# Longer than any recovery the edge promises (10 s), shorter than forever: a socket silent this
# long while its reply is pending has stalled.
SILENCE_SECONDS = 25
# The edge's promise for a message no worker takes (docs/operations.md).
UNAVAILABLE_SECONDS = 10


@pytest.fixture(scope="module")
def plain_stack() -> Iterator[RunningStack]:
    with running_stack() as started:
        yield started


@pytest.fixture(scope="module")
async def own_stack(plain_stack: RunningStack) -> AsyncIterator[tuple[RunningStack, RedisProxy]]:
    """The module's stack, its API and worker restarted: the worker paced, the API behind the proxy."""
    port = urlparse(plain_stack.redis_url).port
    assert port is not None
    proxy = RedisProxy(port)
    await proxy.start()
    plain_stack.env["BUILTIN_DELTA_DELAY_MS"] = DELTA_DELAY_MS
    await asyncio.to_thread(plain_stack.processes.stop, "worker")
    await asyncio.to_thread(plain_stack.processes.stop, "api")
    start_worker(plain_stack.processes, plain_stack.env, plain_stack.log_dir)
    api_env = {**plain_stack.env, "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"}
    # Started from a thread: the proxy runs on this loop and must answer while the API starts.
    await asyncio.to_thread(
        start_api, plain_stack.processes, api_env, plain_stack.api_port, plain_stack.log_dir
    )
    try:
        yield plain_stack, proxy
    finally:
        await proxy.stop()


def _process(stack: RunningStack, name: str) -> subprocess.Popen[bytes]:
    return next(process for entry, process in stack.processes.processes if entry == name)


def _forget(stack: RunningStack, process: subprocess.Popen[bytes]) -> None:
    stack.processes.processes = [e for e in stack.processes.processes if e[1] is not process]


class _ApiLog:
    """What the API logged from now on."""

    def __init__(self, stack: RunningStack) -> None:
        self._path = stack.log_dir / "api.log"
        self._start = self._path.stat().st_size

    def since(self) -> str:
        with self._path.open("rb") as log:
            log.seek(self._start)
            return log.read().decode(errors="replace")


async def _open(client: ChatClient) -> str:
    created = await client.recv_type("session_created")
    await client.recv_type("conversation_restored")
    return str(created["session_token"])


def _last_event_id(frames: list[Frame]) -> str | None:
    ids = [
        f["event_id"]
        for f in frames
        if f.get("event_id") and f["type"] not in ("conversation_restored", "error")
    ]
    return ids[-1] if ids else None


async def test_a_reply_cut_by_a_redis_restart_reaches_the_client(
    own_stack: tuple[RunningStack, RedisProxy],
) -> None:
    stack, _ = own_stack
    log = _ApiLog(stack)
    frames: list[Frame] = []
    async with connect(stack.ws_url, GUIDE) as client:
        token = await _open(client)
        await client.turn("hello")  # the worker is warm: the next reply starts at once
        await client.chat("Tell me about the insights pillar", "redis-restart-1")
        accepted = await client.recv_type("message_accepted", wait_seconds=30)
        await client.recv_type("chat_chunk", wait_seconds=30)
        old = _process(stack, "redis")
        assert isinstance(old.args, list)
        args = [str(arg) for arg in old.args]
        data = Path(args[args.index("--dir") + 1])  # where it keeps its append-only file
        port = urlparse(stack.redis_url).port
        assert port is not None
        old.send_signal(signal.SIGKILL)
        await asyncio.to_thread(old.wait, 10)
        _forget(stack, old)
        await asyncio.to_thread(start_redis, stack.processes, data, port, stack.log_dir)
        closed = await _until_reply(client, accepted["message_id"])
        frames += client.received
    if closed is not None:
        # Closed rather than left silent: with "try again later" and a reason, and the page
        # resumes where it stopped.
        assert closed.code == 1013, closed
        assert closed.reason
        async with connect(
            stack.ws_url, GUIDE, session_token=token, last_event_id=_last_event_id(frames)
        ) as client:
            await client.recv_type("conversation_restored")
            assert await _until_reply(client, accepted["message_id"]) is None
            frames += client.received
    response = next(
        f
        for f in frames
        if f["type"] == "chat_response" and f["in_reply_to"] == accepted["message_id"]
    )
    restarted = [
        i
        for i, f in enumerate(frames)
        if f["type"] == "reply_restarted" and f["message_id"] == response["message_id"]
    ]
    streamed = "".join(
        f["delta"]
        for f in frames[restarted[-1] if restarted else 0 :]
        if f["type"] == "chat_chunk" and f["message_id"] == response["message_id"]
    )
    assert response["message"] == streamed
    assert "Traceback" not in log.since()


async def _until_reply(client: ChatClient, message_id: str) -> websockets.frames.Close | None:
    """Frames until the reply to `message_id` completes (None) or the server closes (its close);
    fails when the socket stays open and silent."""
    try:
        while True:
            frame = await client.recv(wait_seconds=SILENCE_SECONDS)
            if frame["type"] == "chat_response" and frame["in_reply_to"] == message_id:
                return None
    except TimeoutError:
        raise AssertionError(
            f"the socket stayed open and silent for {SILENCE_SECONDS} s with a reply pending"
        ) from None
    except websockets.ConnectionClosed as error:
        assert error.rcvd is not None, "closed without a close frame"
        return error.rcvd


async def test_a_socket_whose_stream_read_fails_after_a_resync_closes_with_1013(
    own_stack: tuple[RunningStack, RedisProxy],
) -> None:
    stack, proxy = own_stack
    admin = redis.from_url(stack.redis_url)
    try:
        async with connect(stack.ws_url, GUIDE) as client:
            token = await _open(client)
            await client.turn("hello")
            log = _ApiLog(stack)
            # Redis "drops again just after the relay resubscribed": the relay's subscription
            # is cut and comes back at once, but every stream read fails.
            proxy.drop = b"XRANGE"
            await admin.client_kill_filter(_type="pubsub")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await client.recv(wait_seconds=SILENCE_SECONDS)
    finally:
        proxy.drop = None
        await admin.aclose()
    assert proxy.dropped > 0, "the socket never read the stream"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013
    assert closed.value.rcvd.reason
    logged = log.since()
    assert logged.count("closing a socket with 1013") == 1
    assert "Traceback" not in logged
    # Redis answers again: the page's reconnect gets the conversation and a new turn works.
    async with connect(stack.ws_url, GUIDE, session_token=token) as client:
        await client.recv_type("conversation_restored")
        await client.turn("and now?")


async def test_a_message_no_worker_takes_gets_unavailable_in_time(
    own_stack: tuple[RunningStack, RedisProxy],
) -> None:
    stack, _ = own_stack
    async with connect(stack.ws_url, GUIDE) as client:
        await _open(client)
        await client.turn("hello")  # the session's workflow runs: the update waits for a worker
        # Killed, as a crash would: its sticky queue still names it.
        worker = _process(stack, "worker")
        worker.send_signal(signal.SIGKILL)
        await asyncio.to_thread(worker.wait, 10)
        _forget(stack, worker)
        log = _ApiLog(stack)
        sent = time.monotonic()
        await client.chat("anyone there?", "no-worker-2")
        error = await client.recv_type("error", wait_seconds=30)
        waited = time.monotonic() - sent
    start_worker(stack.processes, stack.env, stack.log_dir)
    assert error["code"] == "unavailable"
    assert error["client_message_id"] == "no-worker-2"
    assert waited <= UNAVAILABLE_SECONDS, f"unavailable after {waited:.1f} s"
    assert "Traceback" not in log.since()


async def test_a_submit_while_temporal_is_down_leaves_no_unretrieved_failure(
    own_stack: tuple[RunningStack, RedisProxy],
) -> None:
    """The edge in this process, so that every failure nobody retrieved shows. Last in the
    module: Temporal stays down."""
    stack, _ = own_stack
    settings = Settings(
        temporal_address=stack.temporal_address,
        redis_url=stack.redis_url,
        task_queue=stack.env["TASK_QUEUE"],
        message_submit_timeout_seconds=3,
    )
    app = create_app(settings)
    unretrieved: list[str] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: unretrieved.append(str(context["message"])))
    try:
        async with app.router.lifespan_context(app):
            sdk = app.state.edge.sdk
            connection = await sdk.connect_guide_agent(None)
            temporal = _process(stack, "temporal")
            temporal.send_signal(signal.SIGKILL)
            await asyncio.to_thread(temporal.wait, 10)
            _forget(stack, temporal)
            with pytest.raises((SubmitTimedOut, RPCError)):
                await sdk.send_agent_message(connection.connection_id, "anyone?", "down-1")
            await sdk.disconnect_agent(connection.connection_id)
        # A failed future nobody retrieved is reported when it is collected.
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert unretrieved == []
