"""Scenario 4: idle sockets one API process holds, and the memory each costs; the same for the
bare echo server. Each server is restarted first, so its memory is measured from a clean start.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from benchmarks.baselines.serve import api_uvicorn_settings, other_ws
from benchmarks.progress import Progress
from benchmarks.stack import BenchStack
from benchmarks.ws_client import ChatSocket, EchoSocket, close_many, open_many

SETTLE_SECONDS = 2.0


async def _hold(
    name: str,
    opener: Callable[[], Awaitable[Any]],
    steps: Sequence[int],
    rss: Callable[[], int],
    redis_rss: Callable[[], int] | None,
    progress: Progress,
) -> list[dict[str, Any]]:
    # One socket first: whatever the first connection loads lazily is not a per-socket cost.
    await close_many([await opener()])
    await asyncio.sleep(SETTLE_SECONDS)
    base = rss()
    redis_base = redis_rss() if redis_rss else 0
    held: list[Any] = []
    retries: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    try:
        for step in steps:
            started = time.perf_counter()
            held += await open_many(
                opener, step - len(held), concurrency=50, seconds=600, retries=retries
            )
            opening = time.perf_counter() - started
            gc.collect()
            await asyncio.sleep(SETTLE_SECONDS)
            now = rss()
            row: dict[str, Any] = {
                "sockets": len(held),
                "rss_mb": round(now / 2**20, 1),
                "kb_per_socket": round((now - base) / len(held) / 1024, 1),
                "opened_per_second": round((step - (rows[-1]["sockets"] if rows else 0)) / opening),
                "open_retries": dict(retries),
            }
            if redis_rss is not None:
                row["redis_kb_per_socket"] = round((redis_rss() - redis_base) / len(held) / 1024, 1)
            rows.append(row)
            progress.say(
                f"  {name}: {row['sockets']} idle sockets, {row['kb_per_socket']} KB each "
                f"(RSS {row['rss_mb']} MB), opened at {row['opened_per_second']}/s"
            )
    finally:
        await close_many(held)
    return rows


async def capacity(
    stack: BenchStack, steps: Sequence[int], other_ws_too: bool, progress: Progress
) -> dict[str, Any]:
    """The API and the echo under the API's uvicorn settings; then the echo under the other
    WebSocket implementation, the one setting that decides much of a socket's cost."""
    progress.say(f"scenario 4 - capacity: idle sockets at {', '.join(map(str, steps))}")
    stack.restart_api()
    results: dict[str, Any] = {
        "ws": api_uvicorn_settings().get("ws"),
        "api": await _hold(
            "API",
            lambda: ChatSocket.open(stack.api_url),
            steps,
            lambda: stack.rss("api"),
            lambda: stack.rss("redis"),
            progress,
        ),
    }
    stack.restart_echo()
    results["echo"] = await _hold(
        "echo",
        lambda: EchoSocket.open(stack.echo_url),
        steps,
        lambda: stack.rss("echo"),
        None,
        progress,
    )
    if not other_ws_too:
        return results
    other = results["echo_other_ws"] = {"ws": other_ws(str(results["ws"]))}
    stack.restart_echo(other["ws"])
    other["rows"] = await _hold(
        f"echo, ws={other['ws']}",
        lambda: EchoSocket.open(stack.echo_url),
        steps,
        lambda: stack.rss("echo"),
        None,
        progress,
    )
    return results
