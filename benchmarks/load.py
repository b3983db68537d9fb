"""Units of load and the loops that drive them.

A driver is one session-like unit that does one operation at a time, back to back: a chat
socket doing turns, a bare workflow taking updates, an echo socket taking round trips. The
same loops time them all, so the chat and its baselines are measured the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from websockets.exceptions import ConnectionClosed

from benchmarks.baselines.irreducible import IrreducibleTurnInput, IrreducibleTurnWorkflow
from benchmarks.baselines.workflows import BASELINE_TASK_QUEUE, NoOpUpdateWorkflow
from benchmarks.stats import summary
from benchmarks.ws_client import ChatSocket, EchoSocket, TurnFailed, close_many, open_many
from workflows.chat_session import session_workflow_id

Sample = dict[str, float]
# Samples named so are counts (chunks in a reply), reported by their mean, not as latencies.
COUNT_PREFIX = "n_"
OPERATION_TIMEOUT = 60.0
_turn_numbers = itertools.count(1)


class Driver(Protocol):
    # The workflow whose history records this driver's operations, if any.
    workflow_id: str | None

    @property
    def done(self) -> int:
        """Operations completed so far, warm-up included."""
        ...

    async def once(self) -> Sample: ...

    async def close(self) -> None: ...


@dataclass
class ReplyShape:
    """What the chat's replies looked like so far: the irreducible turn publishes the same."""

    turns: int = 0
    chunks: int = 0
    characters: int = 0

    def add(self, chunks: int, characters: int) -> None:
        self.turns += 1
        self.chunks += chunks
        self.characters += characters

    def deltas(self) -> tuple[int, str]:
        """How many deltas a reply has on average, and one delta of the average length."""
        if not self.turns:
            return 3, "x" * 100
        count = max(1, round(self.chunks / self.turns))
        return count, "x" * max(1, round(self.characters / self.turns / count))


class ChatDriver:
    """A browser tab: sends a message, waits for the whole reply, sends the next."""

    def __init__(self, socket: ChatSocket, shape: ReplyShape) -> None:
        self.socket = socket
        self.workflow_id: str | None = session_workflow_id(socket.session_id)
        self._shape = shape

    @property
    def done(self) -> int:
        return self.socket.turns

    async def once(self) -> Sample:
        # A question for the guide itself: every turn takes the same path (no handoff).
        turn = await self.socket.turn(
            f"Hello! What can you help me with on this platform? ({next(_turn_numbers)})"
        )
        self._shape.add(turn.chunks, turn.reply_chars)
        sample = {"ack": turn.ack, "response": turn.response, COUNT_PREFIX + "chunks": turn.chunks}
        if turn.first_chunk is not None:
            sample["first_chunk"] = turn.first_chunk
        return sample

    async def close(self) -> None:
        await self.socket.close()


class UpdateDriver:
    """A bare workflow taking updates (`touch`) back to back."""

    def __init__(self, handle: WorkflowHandle[Any, Any], workflow: type[Any]) -> None:
        self._handle = handle
        self._workflow = workflow
        self.workflow_id: str | None = handle.id
        self.done = 0

    async def once(self) -> Sample:
        started = time.perf_counter()
        await self._handle.execute_update(self._workflow.touch, self.done)
        self.done += 1
        return {"update": time.perf_counter() - started}

    async def close(self) -> None:
        await self._handle.signal(self._workflow.finish)


class IrreducibleDriver:
    """The irreducible turn, one update per turn, with as many deltas as the chat's replies."""

    def __init__(self, handle: WorkflowHandle[Any, Any], shape: ReplyShape) -> None:
        self._handle = handle
        self._shape = shape
        self.workflow_id: str | None = handle.id
        self.done = 0

    async def once(self) -> Sample:
        count, delta = self._shape.deltas()
        turn = IrreducibleTurnInput(
            session_id=f"bench-{self._handle.id}",
            message_id=f"m-{uuid.uuid4().hex}",
            message="Hello! What can you help me with on this platform?",
            deltas=count,
            delta=delta,
        )
        started = time.perf_counter()
        await self._handle.execute_update(IrreducibleTurnWorkflow.touch, turn)
        self.done += 1
        return {"update": time.perf_counter() - started, COUNT_PREFIX + "chunks": count}

    async def close(self) -> None:
        await self._handle.signal(IrreducibleTurnWorkflow.finish)


class UpdateWithStartDriver:
    """The no-op update sent as the API sends a chat message: update-with-start, use existing."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.workflow_id: str | None = f"bench-noop-with-start-{uuid.uuid4().hex[:12]}"
        self.done = 0

    async def once(self) -> Sample:
        assert self.workflow_id is not None
        started = time.perf_counter()
        await self._client.execute_update_with_start_workflow(
            NoOpUpdateWorkflow.touch,
            self.done,
            start_workflow_operation=WithStartWorkflowOperation(
                NoOpUpdateWorkflow.run,
                id=self.workflow_id,
                task_queue=BASELINE_TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            ),
        )
        self.done += 1
        return {"update": time.perf_counter() - started}

    async def close(self) -> None:
        assert self.workflow_id is not None
        await self._client.get_workflow_handle(self.workflow_id).signal(NoOpUpdateWorkflow.finish)


class EchoDriver:
    """A socket to the echo server, one round trip at a time."""

    # About the size of a chat_message frame.
    MESSAGE = "x" * 120

    def __init__(self, socket: EchoSocket) -> None:
        self.socket = socket
        self.workflow_id: str | None = None
        self.done = 0

    async def once(self) -> Sample:
        elapsed = await self.socket.round_trip(self.MESSAGE)
        self.done += 1
        return {"round_trip": elapsed}

    async def close(self) -> None:
        await self.socket.close()


@dataclass(frozen=True)
class System:
    """Something measured: how to open its drivers and which processes do its work."""

    name: str
    label: str
    processes: tuple[str, ...]
    open: Callable[[int], Awaitable[Sequence[Driver]]]
    # Which sample is "the latency" in sweeps and charts.
    main_metric: str


def chat_system(api_url: str, shape: ReplyShape) -> System:
    async def open_chat(count: int) -> Sequence[Driver]:
        sockets = await open_many(lambda: ChatSocket.open(api_url), count)
        return [ChatDriver(socket, shape) for socket in sockets]

    return System(
        "chat", "chat turn", ("temporal", "worker", "api", "redis"), open_chat, "first_chunk"
    )


async def _start_baselines(
    client: Client, workflow: type[Any], name: str, count: int
) -> list[WorkflowHandle[Any, Any]]:
    """`count` runs of a baseline workflow, each driven by one driver."""
    prefix = f"bench-{name}-{uuid.uuid4().hex[:8]}"
    return await asyncio.gather(
        *(
            client.start_workflow(workflow.run, id=f"{prefix}-{i}", task_queue=BASELINE_TASK_QUEUE)
            for i in range(count)
        )
    )


def update_system(client: Client, workflow: type[Any], name: str, label: str) -> System:
    async def open_updates(count: int) -> Sequence[Driver]:
        handles = await _start_baselines(client, workflow, name, count)
        return [UpdateDriver(handle, workflow) for handle in handles]

    return System(name, label, ("temporal", "baseline-worker"), open_updates, "update")


def irreducible_system(client: Client, shape: ReplyShape) -> System:
    async def open_turns(count: int) -> Sequence[Driver]:
        handles = await _start_baselines(client, IrreducibleTurnWorkflow, "irreducible", count)
        return [IrreducibleDriver(handle, shape) for handle in handles]

    return System(
        "irreducible",
        "irreducible turn",
        ("temporal", "baseline-worker", "redis"),
        open_turns,
        "update",
    )


def update_with_start_system(client: Client) -> System:
    async def open_drivers(count: int) -> Sequence[Driver]:
        return [UpdateWithStartDriver(client) for _ in range(count)]

    return System(
        "noop_update_with_start",
        "no-op update-with-start",
        ("temporal", "baseline-worker"),
        open_drivers,
        "update",
    )


def echo_system(echo_url: str) -> System:
    async def open_echo(count: int) -> Sequence[Driver]:
        sockets = await open_many(lambda: EchoSocket.open(echo_url), count)
        return [EchoDriver(socket) for socket in sockets]

    return System("echo", "WebSocket echo", ("echo",), open_echo, "round_trip")


async def close_drivers(drivers: Sequence[Driver]) -> None:
    await close_many(list(drivers))


@dataclass
class Window:
    """What a timed window of back-to-back operations produced."""

    seconds: float
    completed: int = 0
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    # CPU cores busy with work outside this benchmark during the window.
    other_load_cores: float | None = None

    def report(self) -> dict[str, Any]:
        per_op = {
            name: round(1000 * seconds / self.completed, 3) if self.completed else None
            for name, seconds in self.cpu_seconds.items()
        }
        return {
            "seconds": round(self.seconds, 2),
            "completed": self.completed,
            "per_second": round(self.completed / self.seconds, 2),
            "failures": dict(self.failures),
            "latency": {
                name: summary(values)
                for name, values in self.samples.items()
                if not name.startswith(COUNT_PREFIX)
            },
            "mean_counts": {
                name.removeprefix(COUNT_PREFIX): round(sum(values) / len(values), 1)
                for name, values in self.samples.items()
                if name.startswith(COUNT_PREFIX) and values
            },
            "cpu_ms_per_operation": per_op,
            "other_load_cores": self.other_load_cores,
        }


async def _guarded(driver: Driver, window: Window) -> Sample | None:
    """One operation; a failed one is counted, not raised. None stops this driver."""
    try:
        async with asyncio.timeout(OPERATION_TIMEOUT):
            return await driver.once()
    except TurnFailed as failure:
        window.failures[f"error:{failure}"] += 1
        return {}
    except TimeoutError:
        window.failures["timeout"] += 1
        return {}
    except ConnectionClosed:
        window.failures["connection_closed"] += 1
        return None
    except Exception as error:  # an RPC error, say: count it by type and keep going
        window.failures[type(error).__name__] += 1
        return {}


async def sequential(driver: Driver, operations: int, window: Window | None = None) -> Window:
    """`operations` operations one after the other on one driver, added to `window`."""
    window = window or Window(seconds=0.0)
    started = time.perf_counter()
    for _ in range(operations):
        sample = await _guarded(driver, window)
        if sample is None:
            break
        if sample:
            window.completed += 1
            for name, value in sample.items():
                window.samples[name].append(value)
    window.seconds += time.perf_counter() - started
    return window


async def timed(
    drivers: Sequence[Driver],
    seconds: float,
    cpu: Callable[[], dict[str, float]],
    load: Callable[[], tuple[float, float]] | None = None,
    ramp: float = 0.0,
    grace: float = 15.0,
) -> Window:
    """Every driver back to back; operations finishing in the window `ramp` .. `ramp + seconds`
    are counted (the ramp lets the drivers fall out of step), and those still running `grace`
    seconds after the window are abandoned.

    CPU is read at the window's two edges, so it covers the same span as the count.
    """
    window = Window(seconds=seconds)
    start = time.perf_counter() + ramp
    end = start + seconds
    cpu_before: dict[str, float] = {}
    load_before: tuple[float, float] | None = None

    async def loop(driver: Driver) -> None:
        while time.perf_counter() < end:
            sample = await _guarded(driver, window)
            if sample is None:
                return
            if sample and start <= time.perf_counter() <= end:
                window.completed += 1
                for name, value in sample.items():
                    window.samples[name].append(value)

    async def read_cpu_at_edges() -> tuple[dict[str, float], tuple[float, float] | None]:
        nonlocal cpu_before, load_before
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        cpu_before, load_before = cpu(), load() if load else None
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        return cpu(), load() if load else None

    cpu_task = asyncio.create_task(read_cpu_at_edges())
    loops = [asyncio.create_task(loop(driver)) for driver in drivers]
    _, late = await asyncio.wait(loops, timeout=ramp + seconds + grace)
    for task in late:
        task.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    if late:
        window.failures["abandoned_after_window"] += len(late)
    cpu_after, load_after = await cpu_task
    window.cpu_seconds = {name: cpu_after[name] - cpu_before[name] for name in cpu_before}
    if load_before and load_after:
        machine = load_after[0] - load_before[0]
        ours = load_after[1] - load_before[1]
        window.other_load_cores = round(max(0.0, machine - ours) / seconds, 2)
    return window
