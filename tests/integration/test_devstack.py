"""`make run`'s launcher (python -m devstack) on free ports: its servers end when it does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.pidfile import PID_FILE
from devstack.services import ROOT, free_port, port_open

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces) start at the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has ended, unreaped


@pytest.fixture
def launcher_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "API_PORT": str(free_port()),
        "WORKER_METRICS_PORT": "0",
        "TEMPORAL_METRICS_PORT": "0",
        "TASK_QUEUE": f"devstack-test-{os.getpid()}",
    }


def _launch(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    temporal_port = env["TEMPORAL_ADDRESS"].rpartition(":")[2]
    command = [sys.executable, "-m", "devstack", "--data-dir", str(data_dir)]
    command += ["--temporal-port", temporal_port, "--ui-port", str(free_port())]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@pytest.fixture
def reaper() -> Iterator[list[int]]:
    """Pids to kill after the test, should it fail with servers still running."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


# SIGKILL: the launcher killed outright; SIGHUP: its terminal closed; SIGTERM: told to stop.
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP, signal.SIGTERM])
def test_however_the_launcher_ends_its_servers_end(
    tmp_path: Path, launcher_env: dict[str, str], reaper: list[int], signum: int
) -> None:
    launcher = _launch(tmp_path, launcher_env)
    reaper.append(launcher.pid)
    api_port = int(launcher_env["API_PORT"])
    deadline = time.monotonic() + 90
    while not port_open("127.0.0.1", api_port):
        assert launcher.poll() is None, launcher.stdout.read() if launcher.stdout else ""
        assert time.monotonic() < deadline, "the launcher did not start the API"
        time.sleep(0.2)
    servers = _children(launcher.pid)
    reaper.extend(servers)
    assert len(servers) == 4  # Temporal, Redis, worker, API
    launcher.send_signal(signum)
    launcher.wait(30)
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in servers if _running(pid)] == []
    if signum != signal.SIGKILL:
        assert launcher.returncode == 0
        assert not (tmp_path / PID_FILE).exists()


def test_a_run_that_finds_servers_of_an_earlier_one_says_so(
    tmp_path: Path, launcher_env: dict[str, str], reaper: list[int]
) -> None:
    earlier = subprocess.Popen(["sleep", "60"])
    reaper.append(earlier.pid)
    (tmp_path / PID_FILE).write_text(
        json.dumps([{"name": "api", "pid": earlier.pid, "command": ["sleep", "60"]}])
    )
    launcher = _launch(tmp_path, launcher_env)
    reaper.append(launcher.pid)
    output, _ = launcher.communicate(timeout=30)
    assert launcher.returncode == 1
    said = output.decode()
    assert f"api (pid {earlier.pid})" in said
    assert f"kill {earlier.pid}" in said
    earlier.kill()
    earlier.wait()
