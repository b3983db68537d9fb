"""CPU work in child processes: the caller's event loop keeps running, and a deadline kills."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from foundations.processes import ProcessRunner, WorkCrashed, WorkTimedOut


def spin(seconds: float) -> int:
    """Pure-Python CPU work, the kind that holds the GIL, reporting its process id."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return os.getpid()


def spin_forever(pid_file: str) -> None:
    with open(pid_file, "w") as out:
        out.write(str(os.getpid()))
    while True:
        pass


def refuse(message: str) -> None:
    raise ValueError(message)


def die() -> None:
    os._exit(3)


def _pid(pid_file: str) -> int:
    """The child's process id once it has written it, else 0."""
    try:
        with open(pid_file) as written:
            return int(written.read() or 0)
    except FileNotFoundError:
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child not yet reaped would still answer; the runner reaps it.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


async def test_the_event_loop_keeps_running_while_a_child_computes() -> None:
    runner = ProcessRunner(2)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    pid = await runner.run(spin, 1.0, seconds=60)
    ticker.cancel()
    assert pid != os.getpid()
    # A loop blocked for the second of work would have ticked once or not at all.
    assert ticks >= 10


async def test_a_child_past_its_deadline_is_killed(tmp_path: object) -> None:
    pid_file = f"{tmp_path}/pid"
    with pytest.raises(WorkTimedOut):
        await ProcessRunner(1).run(spin_forever, pid_file, seconds=3.0)
    pid = _pid(pid_file)
    assert not _alive(pid)


async def test_cancelling_the_caller_kills_the_child(tmp_path: object) -> None:
    pid_file = f"{tmp_path}/pid"
    call = asyncio.create_task(ProcessRunner(1).run(spin_forever, pid_file, seconds=600))
    while not _pid(pid_file):
        await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert not _alive(_pid(pid_file))


async def test_errors_come_back_as_raised_and_a_dead_child_as_crashed() -> None:
    runner = ProcessRunner(1)
    with pytest.raises(ValueError, match="bad input"):
        await runner.run(refuse, "bad input", seconds=60)
    with pytest.raises(WorkCrashed):
        await runner.run(die, seconds=60)


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


async def test_a_child_past_its_memory_cap_fails_with_memory_error() -> None:
    runner = ProcessRunner(1, memory_bytes=512 * 1024 * 1024)
    assert await runner.run(allocate, 16, seconds=60) == 16 * 1024 * 1024
    with pytest.raises(MemoryError):
        await runner.run(allocate, 2048, seconds=60)
