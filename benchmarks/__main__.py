"""`python -m benchmarks [--quick]`: start a stack, run every scenario with its baselines, and
write `benchmarks/results/<timestamp>.json`, a Markdown table and PNG charts beside it.

`python -m benchmarks --soak MINUTES` runs the soak alone (see benchmarks/soak.py)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
from temporalio.client import Client

from benchmarks import capacity, isolation, relay, report, scenarios, soak
from benchmarks.baselines.workflows import NoOpUpdateWorkflow, TwoLocalActivitiesWorkflow
from benchmarks.load import (
    ReplyShape,
    chat_system,
    echo_system,
    irreducible_system,
    update_system,
    update_with_start_system,
)
from benchmarks.progress import Progress
from benchmarks.stack import BenchStack, raise_open_files_limit, start_bench_stack
from devstack.services import ROOT

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Plan:
    """How much of each scenario to run."""

    sequential_turns: int
    levels: tuple[int, ...]
    chat_level_seconds: float
    baseline_level_seconds: float
    # Scenario 2's systems, by name (the chat and the baselines its targets are measured by).
    sweep_systems: tuple[str, ...]
    relay_streams: tuple[int, ...]
    # workflow_streams at these stream counts (each stream is a workflow to start and end).
    relay_baseline_streams: tuple[int, ...]
    relay_rate: float
    relay_seconds: float
    capacity_steps: tuple[int, ...]
    # Also hold the echo's sockets under the other WebSocket implementation.
    capacity_other_ws: bool
    # Seconds of each of the isolation scenario's blocks (three quiet, three under attack).
    isolation_block_seconds: float = 60


FULL = Plan(
    sequential_turns=300,
    levels=(1, 10, 50, 200),
    chat_level_seconds=30,
    baseline_level_seconds=10,
    sweep_systems=("chat", "irreducible", "noop_update", "two_local_activities", "echo"),
    relay_streams=(10, 200),
    relay_baseline_streams=(10, 200),
    relay_rate=10,
    relay_seconds=15,
    capacity_steps=(1000, 5000, 10000),
    capacity_other_ws=True,
)
# A few minutes at most: the same scenarios, shorter, at 1 and 50 sessions.
QUICK = Plan(
    sequential_turns=20,
    levels=(1, 50),
    chat_level_seconds=6,
    baseline_level_seconds=1.5,
    sweep_systems=("chat", "irreducible"),
    relay_streams=(200,),
    relay_baseline_streams=(50,),
    relay_rate=10,
    relay_seconds=2,
    # The socket target is set at 10,000: held in the quick run too.
    capacity_steps=(10000,),
    capacity_other_ws=False,
    isolation_block_seconds=20,
)


async def _scenario(
    results: dict[str, Any], name: str, run: Callable[[], Awaitable[Any]], progress: Progress
) -> None:
    """Run one scenario; a failure is recorded and the next scenario still runs."""
    try:
        results[name] = await run()
    except Exception as error:
        progress.say(f"scenario {name} failed: {error!r}")
        results[name] = {"error": repr(error)}


async def run(
    plan: Plan, stack: BenchStack, workdir: Path, progress: Progress, only: str | None = None
) -> dict[str, Any]:
    if only == "isolation":
        alone: dict[str, Any] = {}
        await _isolation(alone, plan, stack, progress)
        return alone
    temporal = await Client.connect(stack.temporal_address)
    # The chat's replies, as measured, decide how many deltas the irreducible turn publishes.
    shape = ReplyShape()
    chat = chat_system(stack.api_url, shape)
    irreducible = irreducible_system(temporal, shape)
    noop = update_system(temporal, NoOpUpdateWorkflow, "noop_update", "no-op update")
    two_local = update_system(
        temporal, TwoLocalActivitiesWorkflow, "two_local_activities", "two-local-activity update"
    )
    noop_with_start = update_with_start_system(temporal)
    echo = echo_system(stack.echo_url)
    results: dict[str, Any] = {}
    await _scenario(
        results,
        "turn_latency",
        lambda: scenarios.turn_latency(
            [chat, irreducible, noop, noop_with_start, two_local, echo],
            plan.sequential_turns,
            progress,
        ),
        progress,
    )
    seconds = {
        "chat": plan.chat_level_seconds,
        "irreducible": plan.chat_level_seconds,
        "noop_update": plan.baseline_level_seconds,
        "two_local_activities": plan.baseline_level_seconds,
        "echo": plan.baseline_level_seconds,
    }
    await _scenario(
        results,
        "sweep",
        lambda: scenarios.sweep(
            [s for s in (chat, irreducible, noop, two_local, echo) if s.name in plan.sweep_systems],
            plan.levels,
            seconds,
            stack,
            temporal,
            progress,
        ),
        progress,
    )
    relay_results: dict[str, list[Any]] = {"chat": [], "workflow_streams": []}
    runs = [("chat", streams) for streams in plan.relay_streams] + [
        ("workflow_streams", streams) for streams in plan.relay_baseline_streams
    ]
    for path, streams in runs:
        outcome: dict[str, Any] = {}
        await _scenario(
            outcome,
            path,
            functools.partial(
                relay.relay_chat,
                stack,
                streams,
                plan.relay_rate,
                plan.relay_seconds,
                workdir,
                progress,
            )
            if path == "chat"
            else functools.partial(
                relay.relay_workflow_streams,
                stack,
                temporal,
                streams,
                plan.relay_rate,
                plan.relay_seconds,
                workdir,
                progress,
            ),
            progress,
        )
        relay_results[path].append(outcome[path])
    results["relay"] = relay_results
    await _scenario(
        results,
        "capacity",
        lambda: capacity.capacity(stack, plan.capacity_steps, plan.capacity_other_ws, progress),
        progress,
    )
    await _isolation(results, plan, stack, progress)
    return results


async def _isolation(
    results: dict[str, Any], plan: Plan, stack: BenchStack, progress: Progress
) -> None:
    await stack.quiesce(isolation.SETTLING)
    await _scenario(
        results,
        "isolation",
        lambda: isolation.isolation(stack, plan.isolation_block_seconds, progress),
        progress,
    )


def _code() -> dict[str, Any]:
    """Which code was measured: the commit, and files changed since (not benchmarks/)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return {}
    return {
        "commit": commit or None,
        "changed": [line[3:] for line in changed if line[3:] and "benchmarks" not in line],
    }


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a shorter run: 1 and 50 sessions")
    parser.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="only the soak: 50 sessions chatting for MINUTES, lost turns and memory of each server",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results are written")
    parser.add_argument("--keep-data", action="store_true", help="keep the stack's data and logs")
    parser.add_argument(
        "--only", choices=("isolation",), help="run one scenario alone (on its own stack)"
    )
    args = parser.parse_args()
    if args.soak is not None:
        return run_soak(args.soak, args.out)
    plan = QUICK if args.quick else FULL
    progress = Progress()
    open_files = raise_open_files_limit()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    workdir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    progress.say(f"{'quick' if args.quick else 'full'} run; starting the stack")
    stack = start_bench_stack(workdir)
    failed = False
    try:
        progress.say(f"stack up: {', '.join(stack.alive())}")
        results = asyncio.run(run(plan, stack, workdir, progress, args.only))
    finally:
        stopped = [name for name, _ in stack.processes.processes if name not in stack.alive()]
        stack.stop()
    if stopped:
        progress.say(f"processes that had stopped during the run: {', '.join(stopped)}")
        failed = True
    document: dict[str, Any] = {
        "started": stamp,
        "mode": "quick" if args.quick else "full",
        "command": "make bench" + (f" ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else ""),
        "machine": {**_machine(), "open_files_limit": open_files},
        "code": _code(),
        "plan": asdict(plan),
        "scenarios": results,
    }
    document["targets"] = report.targets(document)
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / stamp
    base.with_suffix(".json").write_text(json.dumps(document, indent=1))
    base.with_suffix(".md").write_text(report.markdown(document))
    charts = report.charts(document, base)
    progress.say(
        f"wrote {base.with_suffix('.json').name}, .md and {len(charts)} charts in {args.out}"
    )
    print(report.markdown(document))
    if args.keep_data:
        progress.say(f"stack data and logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = failed or any("error" in value for value in _scenario_values(results))
    return 1 if failed else 0


def run_soak(minutes: float, out: Path) -> int:
    """The soak on its own stack; fails when a turn was lost or doubled."""
    if minutes <= 0:
        print("--soak takes a positive number of minutes", file=sys.stderr)
        return 2
    progress = Progress()
    raise_open_files_limit()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    workdir = Path(tempfile.mkdtemp(prefix="chat-soak-"))
    stack = start_bench_stack(workdir)
    try:
        result = asyncio.run(soak.soak(stack, minutes, progress))
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    document = {
        "started": stamp,
        "command": f"make bench ARGS='--soak {minutes:g}'",
        "machine": _machine(),
        "code": _code(),
        "soak": result,
    }
    out.mkdir(parents=True, exist_ok=True)
    base = out / f"{stamp}-soak"
    base.with_suffix(".json").write_text(json.dumps(document, indent=1))
    base.with_suffix(".md").write_text(soak.markdown(result) + "\n")
    print(soak.markdown(result))
    return 1 if result["lost"] or result["duplicated"] else 0


def _scenario_values(results: dict[str, Any]) -> list[dict[str, Any]]:
    values = [v for v in results.values() if isinstance(v, dict)]
    relay_rows = results.get("relay", {}).values()
    return values + [row for rows in relay_rows for row in rows if isinstance(row, dict)]


if __name__ == "__main__":
    sys.exit(main())
