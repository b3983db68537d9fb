"""The real stack the integration and browser tests share: Temporal dev server, Redis, worker
and uvicorn, each its own process on free loopback ports, from the code `make run` uses."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.services import (
    Stack,
    free_port,
    start_api,
    start_redis,
    start_temporal,
    start_worker,
)


@dataclass
class RunningStack:
    processes: Stack
    env: dict[str, str]
    api_port: int
    temporal_address: str
    redis_url: str
    log_dir: Path
    # Where the worker serves its Prometheus metrics, and the Temporal SDK's.
    worker_metrics_port: int = 0
    temporal_metrics_port: int = 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.api_port}"

    def restart_api(self) -> None:
        """Stop the API process and start a new one on the same port."""
        self.processes.stop("api")
        start_api(self.processes, self.env, self.api_port, self.log_dir)

    def stop_api(self) -> None:
        self.processes.stop("api")

    def start_api(self) -> None:
        start_api(self.processes, self.env, self.api_port, self.log_dir)


@contextmanager
def running_stack() -> Iterator[RunningStack]:
    """Start the stack; stop every process on exit."""
    root = Path(tempfile.mkdtemp(prefix="chat-stack-"))
    logs = Path(os.environ.get("TEST_ARTIFACTS", root)) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes = Stack()
    try:
        temporal_address = start_temporal(processes, root / "temporal", free_port(), None, logs)
        redis_url = start_redis(processes, root / "redis", free_port(), logs)
        api_port, worker_metrics_port, temporal_metrics_port = free_port(), free_port(), free_port()
        env = {
            "TEMPORAL_ADDRESS": temporal_address,
            "REDIS_URL": redis_url,
            "TASK_QUEUE": "chat-sessions-it",
            # Free ports: other stacks may run on this machine at the same time.
            "WORKER_METRICS_PORT": str(worker_metrics_port),
            "TEMPORAL_METRICS_PORT": str(temporal_metrics_port),
            "ALLOWED_ORIGINS": json.dumps([f"http://127.0.0.1:{api_port}"]),
            # Integration tests send many messages quickly; the limits have their own tests.
            "SESSION_MESSAGES_PER_MINUTE": "10000",
            "USER_MESSAGES_PER_MINUTE": "10000",
            "SOCKET_FRAMES_PER_SECOND": "200",
            "SOCKET_BURST": "50",
            # Every test connects from 127.0.0.1: one client address for the whole suite.
            "CLIENT_SESSIONS_PER_MINUTE": "1000000",
            "CLIENT_SOCKETS_PER_MINUTE": "1000000",
            # Capabilities run at once here, as the tests written before questions expect;
            # tests/integration/test_questions.py runs an edge and worker that ask first.
            "ASK_BEFORE_ACTING": "false",
        }
        start_worker(processes, env, logs)
        start_api(processes, env, api_port, logs)
        yield RunningStack(
            processes,
            env,
            api_port,
            temporal_address,
            redis_url,
            logs,
            worker_metrics_port=worker_metrics_port,
            temporal_metrics_port=temporal_metrics_port,
        )
    finally:
        processes.stop()
