"""The pid file `make run` keeps under its data directory, to find servers an earlier run left."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from devstack.services import Stack

PID_FILE = "devstack.pids"


@dataclass(frozen=True)
class Leftover:
    name: str
    pid: int


def _command_line(pid: int) -> list[str] | None:
    """The running process's argv, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.decode(errors="replace").split("\0")[:-1]


def leftovers(data_dir: Path) -> list[Leftover]:
    """Servers recorded by an earlier run that still run (the same pid *and* command)."""
    path = data_dir / PID_FILE
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    alive = [
        Leftover(entry["name"], entry["pid"])
        for entry in recorded
        if _command_line(entry["pid"]) == entry["command"]
    ]
    if not alive:
        path.unlink(missing_ok=True)  # all gone: the file is stale, not a warning
    return alive


def record(data_dir: Path, stack: Stack) -> None:
    entries = [
        {"name": name, "pid": process.pid, "command": _command_line(process.pid)}
        for name, process in stack.processes
    ]
    (data_dir / PID_FILE).write_text(json.dumps(entries))


def forget(data_dir: Path) -> None:
    with contextlib.suppress(OSError):
        (data_dir / PID_FILE).unlink()
