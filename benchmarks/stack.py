"""The benchmark's own stack: Temporal dev server, Redis, chat worker and API (started by the
same code as `make run`), plus the baselines' worker and the echo server, each its own process.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from devstack.services import (
    Stack,
    free_port,
    spawn,
    start_api,
    start_redis,
    start_temporal,
    start_worker,
    wait_for_port,
)

CHAT_TASK_QUEUE = "chat-sessions-bench"
# Below this many cores busy, the stack counts as idle between measurements.
QUIET_CORES = 0.15
SERVERS = ("temporal", "worker", "baseline-worker", "api", "redis")

# High admission limits: the benchmark measures the path, not the rate limiter's refusals.
UNLIMITED = {
    "SESSION_MESSAGES_PER_MINUTE": "100000000",
    "USER_MESSAGES_PER_MINUTE": "100000000",
    "SOCKET_FRAMES_PER_SECOND": "100000",
    "SOCKET_BURST": "100000",
    "CLIENT_SESSIONS_PER_MINUTE": "100000000",
    "CLIENT_SOCKETS_PER_MINUTE": "100000000",
    "MAX_SOCKETS_PER_SESSION": "100000",
}


def raise_open_files_limit() -> int:
    """Up to the hard limit; children (the API, the echo server) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _spawn(
    stack: Stack, name: str, module: list[str], env: Mapping[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    return stack.add(name, spawn([sys.executable, "-m", *module], log_dir / f"{name}.log", env))


@dataclass
class BenchStack:
    """The running processes and how to reach them."""

    processes: Stack
    log_dir: Path
    env: dict[str, str]
    api_port: int
    echo_port: int
    temporal_address: str
    redis_url: str
    _meters: dict[str, psutil.Process] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"ws://127.0.0.1:{self.api_port}"

    @property
    def echo_url(self) -> str:
        return f"ws://127.0.0.1:{self.echo_port}/ws/echo"

    def pid(self, name: str) -> int:
        for label, process in self.processes.processes:
            if label == name:
                return process.pid
        raise KeyError(name)

    def process(self, name: str) -> psutil.Process:
        """The psutil handle of a process, cached so CPU deltas are cheap to take."""
        meter = self._meters.get(name)
        if meter is None or meter.pid != self.pid(name):
            meter = self._meters[name] = psutil.Process(self.pid(name))
        return meter

    def cpu_seconds(self, names: tuple[str, ...]) -> dict[str, float]:
        """User + system CPU of each process and its children, so far."""
        result = {}
        for name in names:
            process = self.process(name)
            total = 0.0
            for each in [process, *process.children(recursive=True)]:
                try:
                    times = each.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system
            result[name] = total
        result["client"] = sum(psutil.Process().cpu_times()[:2])
        return result

    def load_seconds(self) -> tuple[float, float]:
        """Busy CPU seconds so far: of the whole machine, and of this stack plus the client.

        Their difference is other work on the machine, which the figures cannot control for.
        """
        machine = psutil.cpu_times()
        busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        names = tuple(name for name, _ in self.processes.processes)
        ours = self.cpu_seconds(names)
        return busy, sum(ours.values())

    async def quiesce(self, names: tuple[str, ...], at_most: float = 90.0) -> float:
        """Wait until these processes are nearly idle (what a level left behind - turns still
        queued in workflows - must not weigh on the next one); returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < at_most:
            before = sum(self.cpu_seconds(names)[name] for name in names)
            await asyncio.sleep(1.0)
            if sum(self.cpu_seconds(names)[name] for name in names) - before < QUIET_CORES:
                break
        return round(time.monotonic() - started, 1)

    def rss(self, name: str) -> int:
        return int(self.process(name).memory_info().rss)

    def restart_api(self) -> None:
        self.processes.stop("api")
        start_api(self.processes, self.env, self.api_port, self.log_dir)

    def restart_echo(self, ws: str | None = None) -> None:
        self.processes.stop("echo")
        _serve(self.processes, "echo", "echo", ws, self.env, self.echo_port, self.log_dir)

    def alive(self) -> list[str]:
        return [name for name, process in self.processes.processes if process.poll() is None]

    def stop(self) -> None:
        self.processes.stop()


def _serve(
    stack: Stack,
    name: str,
    app: str,
    ws: str | None,
    env: Mapping[str, str],
    port: int,
    log_dir: Path,
) -> None:
    command = ["benchmarks.baselines.serve", app, *(["--ws", ws] if ws else [])]
    process = _spawn(stack, name, command, {**env, "API_PORT": str(port)}, log_dir)
    wait_for_port("127.0.0.1", port, process, 30, name)


def start_bench_stack(root: Path) -> BenchStack:
    """Every process on free loopback ports, with data and logs under `root`."""
    log_dir = root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = Stack()
    try:
        temporal_address = start_temporal(processes, root / "temporal", free_port(), None, log_dir)
        redis_url = start_redis(processes, root / "redis", free_port(), log_dir)
        api_port, echo_port = free_port(), free_port()
        env = {
            "TEMPORAL_ADDRESS": temporal_address,
            "REDIS_URL": redis_url,
            "TASK_QUEUE": CHAT_TASK_QUEUE,
            "REPLY_PROVIDER": "builtin",
            "ALLOWED_ORIGINS": json.dumps(["*"]),
            # No metrics servers: their default ports may be taken by a stack already running.
            "WORKER_METRICS_PORT": "0",
            "TEMPORAL_METRICS_PORT": "0",
            **UNLIMITED,
        }
        start_worker(processes, env, log_dir)
        _spawn(processes, "baseline-worker", ["benchmarks.baselines.worker"], env, log_dir)
        start_api(processes, env, api_port, log_dir)
        _serve(processes, "echo", "echo", None, env, echo_port, log_dir)
    except BaseException:
        processes.stop()
        raise
    return BenchStack(processes, log_dir, env, api_port, echo_port, temporal_address, redis_url)
