"""A stack whose processes the fault tests kill and bring back: the same launchers as `make run`,
with every server restartable on its own port and data directory, so a restarted Temporal finds
its SQLite file and a restarted Redis its append-only file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devstack.services import (
    Stack,
    free_port,
    start_api,
    start_redis,
    start_temporal,
    start_worker,
)

# About 85 words a reply at 35 ms each: replies last ~3 s, long enough to be cut in the middle.
DELTA_DELAY_MS = 35


@dataclass
class FaultStack:
    root: Path
    logs: Path
    processes: Stack
    env: dict[str, str]
    temporal_port: int
    redis_port: int
    temporal: subprocess.Popen[bytes] | None = None
    redis: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    apis: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{port}" for port in self.apis]

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    # Starting

    def start_temporal(self) -> None:
        start_temporal(self.processes, self.root / "temporal", self.temporal_port, None, self.logs)
        self.temporal = self.processes.processes[-1][1]

    def start_redis(self) -> None:
        start_redis(self.processes, self.root / "redis", self.redis_port, self.logs)
        self.redis = self.processes.processes[-1][1]

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = start_worker(self.processes, self.env, self.logs)
        self.workers.append(worker)
        return worker

    def start_api(self, port: int | None = None) -> int:
        port = port or free_port()
        self.apis[port] = start_api(self.processes, self.env, port, self.logs)
        return port

    def ensure_healthy(self) -> None:
        """Exactly one of each server running, whatever the last test left behind."""
        if not _alive(self.temporal):
            self.start_temporal()
        if not _alive(self.redis):
            self.start_redis()
        for worker in [w for w in self.workers if not _alive(w)]:
            self.workers.remove(worker)
        for port in [p for p, api in self.apis.items() if not _alive(api)]:
            del self.apis[port]
        while len(self.workers) > 1:
            self.stop(self.workers[-1])
        while len(self.apis) > 1:
            self.stop(self.apis[list(self.apis)[-1]])
        if not self.workers:
            self.start_worker()
        if not self.apis:
            self.start_api()

    # Faults

    def signal(self, process: subprocess.Popen[bytes] | None, sig: signal.Signals) -> None:
        """Send `sig` to the process; after SIGKILL, reap it at once."""
        assert process is not None and process.poll() is None, "the process is not running"
        process.send_signal(sig)
        if sig == signal.SIGKILL:
            process.wait(10)
            self._forget(process)

    def stop(self, process: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
        """Wait for a signalled process to end (SIGTERM first if it has not been told)."""
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._forget(process)

    def _forget(self, process: subprocess.Popen[bytes]) -> None:
        self.processes.processes = [e for e in self.processes.processes if e[1] is not process]
        if process in self.workers:
            self.workers.remove(process)
        for port, api in list(self.apis.items()):
            if api is process:
                del self.apis[port]


def _alive(process: subprocess.Popen[bytes] | None) -> bool:
    return process is not None and process.poll() is None


@contextmanager
def fault_stack() -> Iterator[FaultStack]:
    root = Path(tempfile.mkdtemp(prefix="chat-faults-"))
    logs = Path(os.environ.get("TEST_ARTIFACTS", root)) / "fault-logs"
    logs.mkdir(parents=True, exist_ok=True)
    temporal_port, redis_port = free_port(), free_port()
    env = {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "TASK_QUEUE": "chat-sessions-faults",
        "REPLY_PROVIDER": "builtin",
        "BUILTIN_DELTA_DELAY_MS": str(DELTA_DELAY_MS),
        # Several workers run on this machine at once: no fixed metrics ports.
        "WORKER_METRICS_PORT": "0",
        "TEMPORAL_METRICS_PORT": "0",
        "ALLOWED_ORIGINS": json.dumps(["*"]),
        "SESSION_MESSAGES_PER_MINUTE": "10000",
        "USER_MESSAGES_PER_MINUTE": "10000",
    }
    stack = FaultStack(root, logs, Stack(), env, temporal_port, redis_port)
    try:
        stack.ensure_healthy()
        yield stack
    finally:
        stack.processes.stop()
