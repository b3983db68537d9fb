"""A benchmark-only publisher process: `python -m benchmarks.relay_probe MODE TARGETS ...`.

It plays the part of many replies streaming at once, stamping each delta with its publish time
(`probe:<unix ns>`) so the client can tell how long the delta took to reach it.

- `chat`: through `CommunicationFoundation.publish` (the same Lua script, the same Redis) into
  the guide conversation of each session in TARGETS, so each delta travels the real relay path:
  Redis PUBLISH -> the API process's LiveRelay -> the socket.
- `workflow-streams`: the same deltas through `temporalio.contrib.workflow_streams`, into the
  StreamRelayWorkflow with each id in TARGETS: the SDK's built-in way to stream from a workflow.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as redis
from temporalio.client import Client
from temporalio.contrib.workflow_streams import TopicHandle, WorkflowStreamClient

from agents.catalog import AgentType
from benchmarks.stats import summary
from benchmarks.ws_client import PROBE_PREFIX
from foundations.clients import communication_foundation
from foundations.communication import Conversation
from foundations.server_events import ChatChunk
from foundations.settings import get_settings

STREAM_TOPIC = "deltas"


def _stamp() -> str:
    return f"{PROBE_PREFIX}{time.time_ns()}"


async def _paced(
    publishers: list[Callable[[], Awaitable[None]]], rate: float, duration: float
) -> int:
    """Each publisher `rate` times a second for `duration` seconds, their phases spread evenly.

    One publish at a time: the stamp is taken right before its call, and no other call of
    this process queues ahead of it, so stamp -> Redis is one loopback hop. When the probe
    cannot keep up it publishes late (and says so in the achieved rate), never in a burst.
    """
    period = 1 / rate
    start = time.monotonic() + 0.2
    end = start + duration
    count = 0
    due = start
    while due < end:
        for index, publish in enumerate(publishers):
            at = due + period * index / len(publishers)
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await publish()
            count += 1
        due += period
    return count


async def run_chat(targets: list[str], rate: float, duration: float) -> dict[str, object]:
    settings = get_settings()
    client = redis.Redis.from_url(settings.redis_url)
    communication = communication_foundation(client, settings)
    calls: list[float] = []

    def publisher(index: int, session_id: str) -> Callable[[], Awaitable[None]]:
        conversation = Conversation(session_id, AgentType.GUIDE)

        async def publish() -> None:
            started = time.perf_counter()
            await communication.publish(
                conversation,
                ChatChunk(agent_type=AgentType.GUIDE, message_id=f"probe-{index}", delta=_stamp()),
            )
            calls.append(time.perf_counter() - started)

        return publish

    started = time.monotonic()
    try:
        published = await _paced(
            [publisher(i, target) for i, target in enumerate(targets)], rate, duration
        )
    finally:
        await client.aclose()
    return {
        "published": published,
        "achieved_per_second": round(published / (time.monotonic() - started), 1),
        "publish_call": summary(calls),
    }


async def run_workflow_streams(
    targets: list[str], rate: float, duration: float
) -> dict[str, object]:
    settings = get_settings()
    temporal = await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace
    )
    exit_stack = contextlib.AsyncExitStack()
    publishers = []
    for target in targets:
        stream = WorkflowStreamClient.create(temporal, target)
        await exit_stack.enter_async_context(stream)
        publishers.append(_stream_publisher(stream.topic(STREAM_TOPIC, type=str)))
    started = time.monotonic()
    published = await _paced(publishers, rate, duration)
    achieved = round(published / (time.monotonic() - started), 1)
    # Leaving the clients flushes what is still buffered; a saturated server must not hang us.
    flushed = True
    try:
        async with asyncio.timeout(5):
            await exit_stack.aclose()
    except TimeoutError:
        flushed = False
    return {"published": published, "achieved_per_second": achieved, "flushed_in_time": flushed}


def _stream_publisher(topic: TopicHandle[str]) -> Callable[[], Awaitable[None]]:
    async def publish() -> None:
        # force_flush: send now rather than at the next batch interval (2 s by default).
        topic.publish(_stamp(), force_flush=True)

    return publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["chat", "workflow-streams"])
    parser.add_argument("targets", type=Path, help="JSON list of session or workflow ids")
    parser.add_argument("--rate", type=float, default=10.0, help="deltas per second per stream")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    targets = json.loads(args.targets.read_text())
    run = run_chat if args.mode == "chat" else run_workflow_streams
    result = asyncio.run(run(targets, args.rate, args.duration))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
