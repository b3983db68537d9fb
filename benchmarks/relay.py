"""Scenario 3: delta relay latency with many replies streaming at once, and the same deltas
through Temporal's own workflow_streams.

A probe process (`relay_probe.py`) publishes timestamped deltas; this process receives them
and records publish -> arrival. Both sides read the same wall clock of this machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.workflow_streams import WorkflowStreamClient

from benchmarks.baselines.workflows import BASELINE_TASK_QUEUE, StreamRelayWorkflow
from benchmarks.progress import Progress
from benchmarks.relay_probe import STREAM_TOPIC
from benchmarks.stack import BenchStack
from benchmarks.stats import summary
from benchmarks.ws_client import PROBE_PREFIX, ChatSocket, close_many, open_many
from devstack.services import ROOT

# After the probe stops: time for deltas still in flight (batched ones, for workflow_streams).
DRAIN_SECONDS = {"chat": 1.0, "workflow_streams": 3.0}


async def _run_probe(
    stack: BenchStack,
    mode: str,
    targets: list[str],
    rate: float,
    seconds: float,
    workdir: Path,
) -> dict[str, Any]:
    targets_file = workdir / f"relay-{mode}-targets.json"
    out_file = workdir / f"relay-{mode}-result.json"
    targets_file.write_text(json.dumps(targets))
    with (stack.log_dir / f"probe-{mode}.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.relay_probe",
            mode,
            str(targets_file),
            "--rate",
            str(rate),
            "--duration",
            str(seconds),
            "--out",
            str(out_file),
            cwd=ROOT,
            env={**os.environ, **stack.env},
            stdout=log,
            stderr=log,
        )
        try:
            async with asyncio.timeout(seconds + 90):
                code = await process.wait()
        except TimeoutError:
            process.kill()
            raise
    if code != 0:
        raise RuntimeError(f"relay probe ({mode}) exited with {code}; see its log")
    result: dict[str, Any] = json.loads(out_file.read_text())
    return result


async def relay_chat(
    stack: BenchStack, streams: int, rate: float, seconds: float, workdir: Path, progress: Progress
) -> dict[str, Any]:
    """Sockets on `streams` sessions; the probe publishes into each conversation."""
    progress.say(f"scenario 3 - relay: {streams} sockets, {rate:g} deltas/s each")
    sockets = await open_many(lambda: ChatSocket.open(stack.api_url), streams)
    latencies: list[float] = []
    since_event_id: list[float] = []
    listeners = [
        asyncio.create_task(s.collect_probe_deltas(latencies, since_event_id)) for s in sockets
    ]
    cpu_before = stack.cpu_seconds(("api", "redis"))
    try:
        probe = await _run_probe(
            stack, "chat", [s.session_id for s in sockets], rate, seconds, workdir
        )
        await asyncio.sleep(DRAIN_SECONDS["chat"])
    finally:
        cpu_after = stack.cpu_seconds(("api", "redis"))
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        await close_many(sockets)
    result = _relay_result(
        "relay",
        streams,
        rate,
        probe,
        latencies,
        {name: cpu_after[name] - cpu_before[name] for name in ("api", "redis")},
        progress,
    )
    result["latency_from_event_id_ms_resolution"] = summary(since_event_id)
    result["probe_publish_call"] = probe["publish_call"]
    return result


async def relay_workflow_streams(
    stack: BenchStack,
    temporal: Client,
    streams: int,
    rate: float,
    seconds: float,
    workdir: Path,
    progress: Progress,
) -> dict[str, Any]:
    """The same deltas through workflow_streams: signal in, long-poll update out."""
    progress.say(f"scenario 3 - workflow_streams: {streams} streams, {rate:g} deltas/s each")
    prefix = f"bench-stream-{uuid.uuid4().hex[:8]}"
    handles = await asyncio.gather(
        *(
            temporal.start_workflow(
                StreamRelayWorkflow.run, id=f"{prefix}-{i}", task_queue=BASELINE_TASK_QUEUE
            )
            for i in range(streams)
        )
    )
    latencies: list[float] = []

    async def subscribe(workflow_id: str) -> None:
        stream = WorkflowStreamClient.create(temporal, workflow_id)
        async for item in stream.subscribe(STREAM_TOPIC, result_type=str):
            arrived = time.time_ns()
            if item.data.startswith(PROBE_PREFIX):
                latencies.append((arrived - int(item.data[len(PROBE_PREFIX) :])) / 1e9)

    subscribers = [asyncio.create_task(subscribe(handle.id)) for handle in handles]
    cpu_before = stack.cpu_seconds(("temporal", "baseline-worker"))
    try:
        probe = await _run_probe(
            stack, "workflow-streams", [h.id for h in handles], rate, seconds, workdir
        )
        await asyncio.sleep(DRAIN_SECONDS["workflow_streams"])
    finally:
        cpu_after = stack.cpu_seconds(("temporal", "baseline-worker"))
        for subscriber in subscribers:
            subscriber.cancel()
        await asyncio.gather(*subscribers, return_exceptions=True)
        await asyncio.gather(*(h.terminate() for h in handles), return_exceptions=True)
    result = _relay_result(
        "workflow_streams",
        streams,
        rate,
        probe,
        latencies,
        {name: cpu_after[name] - cpu_before[name] for name in ("temporal", "baseline-worker")},
        progress,
    )
    result["probe_flushed_in_time"] = probe["flushed_in_time"]
    return result


def _relay_result(
    label: str,
    streams: int,
    rate: float,
    probe: dict[str, Any],
    latencies: list[float],
    cpu_seconds: dict[str, float],
    progress: Progress,
) -> dict[str, Any]:
    """What both relays report: deliveries, latency and CPU per delivered delta."""
    published = int(probe["published"])
    latency = summary(latencies)
    progress.say(
        f"  {label}: {len(latencies)}/{published} delivered, "
        f"p50 {latency.get('p50_ms')} ms, p99 {latency.get('p99_ms')} ms"
    )
    return {
        "streams": streams,
        "deltas_per_second_per_stream": rate,
        "published": published,
        "delivered": len(latencies),
        "latency": latency,
        "probe_achieved_per_second": probe["achieved_per_second"],
        "cpu_us_per_delta": {
            name: round(1e6 * seconds / max(1, len(latencies)), 1)
            for name, seconds in cpu_seconds.items()
        },
    }
