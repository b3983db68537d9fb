"""Scenarios 1 and 2: turn latency, one session at a time; then a concurrency sweep.

Each runs the chat and its baselines the same way (see `load.py`), one after the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from temporalio.client import Client

from benchmarks.history import events_per_operation
from benchmarks.load import Driver, System, Window, close_drivers, sequential, timed
from benchmarks.progress import Progress
from benchmarks.stack import SERVERS, BenchStack

# Operations each driver does before measuring: the workflow starts, caches warm.
WARM_UP = 3
# Pause after each operation of scenario 1: what the previous one left running has finished.
SETTLE_SECONDS = 0.1
# Histories fetched per sweep level: enough for a stable per-turn figure.
HISTORY_SAMPLE = 50


async def turn_latency(
    systems: Sequence[System], operations: int, progress: Progress
) -> dict[str, Any]:
    """Scenario 1: one driver per system, `operations` operations each, one at a time.

    The systems take turns - a chat turn, a no-op update, ... - so that whatever else the
    machine is doing weighs on the chat and its baselines alike, and their ratios hold. The
    order rotates every round and each operation is followed by a pause, so that none of them
    always runs in the wake of another (a turn's last workflow task completes after its reply
    has arrived).
    """
    progress.say(
        f"scenario 1 - {operations} sequential operations each, interleaved: "
        + ", ".join(system.label for system in systems)
    )
    drivers: list[Driver] = []
    try:
        for system in systems:
            (driver,) = await system.open(1)
            drivers.append(driver)
            await sequential(driver, WARM_UP)
        windows = [Window(seconds=0.0) for _ in systems]
        pairs = list(zip(drivers, windows, strict=True))
        for round_number in range(1, operations + 1):
            shift = round_number % len(pairs)
            for driver, window in pairs[shift:] + pairs[:shift]:
                await sequential(driver, 1, window)
                await asyncio.sleep(SETTLE_SECONDS)
            if round_number % max(1, operations // 5) == 0:
                progress.say(f"  {round_number}/{operations} rounds")
    finally:
        await close_drivers(drivers)
    results: dict[str, Any] = {}
    for system, window in zip(systems, windows, strict=True):
        report = window.report()
        report["samples_ms"] = {
            name: [round(1000 * value, 3) for value in values]
            for name, values in window.samples.items()
            if name in report["latency"]
        }
        results[system.name] = report
        latency = report["latency"].get(system.main_metric, {})
        progress.say(
            f"  {system.label}: p50 {latency.get('p50_ms')} ms, p99 {latency.get('p99_ms')} ms"
        )
    return results


async def sweep(
    systems: Sequence[System],
    levels: Sequence[int],
    seconds: dict[str, float],
    stack: BenchStack,
    temporal: Client,
    progress: Progress,
) -> dict[str, Any]:
    """Scenario 2: at each concurrency, every driver back to back for a fixed time."""
    results: dict[str, Any] = {}
    for system in systems:
        rows = results[system.name] = []
        for level in levels:
            duration = seconds[system.name]
            progress.say(f"scenario 2 - {system.label} x {level}: opening, warming up")
            drivers = await system.open(level)
            try:
                await asyncio.gather(*(sequential(driver, 1) for driver in drivers))
                progress.say(f"  measuring for {duration:.0f} s")
                row = await _measure(system, drivers, duration, stack, temporal, progress)
            finally:
                await close_drivers(drivers)
                waited = await stack.quiesce(SERVERS)
            row["concurrency"] = level
            row["quiesce_seconds"] = waited
            rows.append(row)
            latency = row["latency"].get(system.main_metric, {})
            events = row.get("history", {}).get("events_per_operation")
            progress.say(
                f"  {system.label} x {level}: {row['per_second']}/s, "
                f"p50 {latency.get('p50_ms')} ms, p99 {latency.get('p99_ms')} ms"
                + (f", {events} history events each" if events else "")
                + (f", failures {row['failures']}" if row["failures"] else "")
            )
    return results


async def _measure(
    system: System,
    drivers: Sequence[Driver],
    duration: float,
    stack: BenchStack,
    temporal: Client,
    progress: Progress,
) -> dict[str, Any]:
    window_task = asyncio.create_task(
        timed(
            drivers,
            duration,
            lambda: stack.cpu_seconds(system.processes),
            stack.load_seconds,
            ramp=min(5.0, duration / 4),
        )
    )
    started = asyncio.get_running_loop().time()

    def status() -> str:
        elapsed = asyncio.get_running_loop().time() - started
        done = sum(driver.done for driver in drivers)
        return f"{elapsed:.0f} s of {duration + min(5.0, duration / 4):.0f}, {done} operations"

    async with progress.ticking(system.label, status, every=max(2.0, duration / 4)):
        window = await window_task
    row = window.report()
    with_history = [d for d in drivers if d.workflow_id is not None][:HISTORY_SAMPLE]
    if with_history:
        await asyncio.sleep(0.5)  # the last turn's closing workflow task, after its response
        row["history"] = await events_per_operation(
            temporal, ((d.workflow_id, d.done) for d in with_history if d.workflow_id)
        )
    return row
