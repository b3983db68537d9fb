"""CPU-bound work in child processes: off the event loop, in parallel, and killable.

A parse that runs on a process's event loop stops every other coroutine in that process
(every reply's stream, in the worker); one in a thread still competes for the GIL and cannot
be stopped. Each piece of work here runs in a fresh child process forked from a preloaded
server, so it uses its own core, the event loop only waits on a pipe, and at its deadline the
child is killed: the work really stops and its memory is returned.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Children yield the CPU to the processes that serve replies (this worker, the API, Temporal,
# Redis): a heavy parse takes longer on a busy machine, and nobody else's reply does.
CHILD_NICENESS = 10


class WorkTimedOut(Exception):
    """The work ran past its deadline; its process was killed."""


class WorkCrashed(Exception):
    """The work's process died without an answer (killed by the system, out of memory)."""


def _serve(
    answer: Connection,
    work: Callable[..., Any],
    args: tuple[Any, ...],
    niceness: int,
    memory_bytes: int | None,
) -> None:
    """The child's whole life: run the work, send back its result or its exception."""
    os.nice(niceness)
    if memory_bytes is not None:
        # Past it, allocations fail with MemoryError in the child, not with the host's OOM killer.
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        result: tuple[bool, Any] = (True, work(*args))
    except Exception as error:  # the parent re-raises it
        result = (False, error)
    try:
        answer.send(result)
    except Exception as error:  # an unpicklable result or exception
        answer.send((False, RuntimeError(f"{type(error).__name__}: {error}")))
    answer.close()


class ProcessRunner:
    """Runs picklable functions in child processes, at most `processes` at a time.

    Children run at a lower priority (`niceness`), with at most `memory_bytes` of address
    space, and come from the "forkserver" start method: a clean server process that imported
    `preload` once forks each child, so a child starts in milliseconds without inheriting the
    parent's threads (the Temporal worker's among them) or its sockets.
    """

    def __init__(
        self,
        processes: int,
        preload: Sequence[str] = (),
        niceness: int = CHILD_NICENESS,
        memory_bytes: int | None = None,
    ) -> None:
        self._niceness = niceness
        self._memory_bytes = memory_bytes
        self._context = multiprocessing.get_context("forkserver")
        if preload:
            self._context.set_forkserver_preload(list(preload))
        self._slots = asyncio.Semaphore(processes)

    async def run(self, work: Callable[..., T], *args: Any, seconds: float) -> T:
        """`work(*args)` in a child process; raises what it raised, WorkTimedOut after
        `seconds` of running (waiting for a free slot does not count), or
        WorkCrashed. Cancelling the caller kills the child too."""
        async with self._slots:
            answer, sender = self._context.Pipe(duplex=False)
            child = self._context.Process(
                target=_serve,
                args=(sender, work, args, self._niceness, self._memory_bytes),
                daemon=True,
            )
            # Starting writes the pickled arguments (a 10 MB upload) into the child's pipe,
            # blocking until the child has read them: done in a thread, the loop runs on.
            starting = asyncio.ensure_future(asyncio.to_thread(child.start))
            try:
                await asyncio.shield(starting)
                sender.close()  # the child holds the only writer: its death reads as EOF
                ok, value = await asyncio.wait_for(_receive(answer), seconds)
            except TimeoutError:
                raise WorkTimedOut(f"stopped after {seconds:g} s") from None
            finally:
                # Even when cancelled: a child still starting must be started to be killed.
                await asyncio.wait([starting])
                sender.close()
                answer.close()
                if child.pid is not None:  # started: stop it if need be, and reap it
                    if child.is_alive():
                        child.kill()
                    # Reaping a finished or killed child is immediate; off the loop all the same.
                    await asyncio.to_thread(child.join)
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]


async def _receive(answer: Connection) -> tuple[bool, Any]:
    """The child's message, waiting on the pipe without blocking the event loop."""
    loop = asyncio.get_running_loop()
    readable = loop.create_future()

    def wake() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(answer.fileno(), wake)
    try:
        await readable
    finally:
        loop.remove_reader(answer.fileno())
    try:
        # The child writes its whole answer at once, so reading the rest does not wait on it.
        message: tuple[bool, Any] = answer.recv()
    except EOFError:
        raise WorkCrashed("the process ended without an answer") from None
    return message
