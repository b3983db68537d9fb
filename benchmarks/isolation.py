"""Scenario: one hostile client must not slow another session down.

A victim session on the guide does turns one at a time; its time to first chunk is sampled
in alternating blocks, quiet and under attack, so that other load on the machine weighs on
both alike. The attacker is one client doing, back to back, what costs the platform most
CPU per request: it uploads the worst-case files (a ragged CSV with a 200,000-column header,
JSON records with hundreds of thousands of distinct keys, JSON nested millions deep, each up
to the 10 MB cap), asks for them to be parsed and summarised, and sends the worst-case
messages (whitespace runs for the step and target patterns, unknown words for routing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx

from agents.capabilities import MAX_UPLOAD_BYTES
from benchmarks.progress import Progress
from benchmarks.stack import BenchStack
from benchmarks.stats import ratio, summary
from benchmarks.ws_client import ChatSocket, TurnFailed

# The figure compared, and the bound on the ratio attacked / quiet.
TARGET_RATIO = 1.5
# Blocks of victim turns, alternating quiet and attacked, so drift in other load evens out.
BLOCKS = 3
VICTIM_PAUSE_SECONDS = 0.2
VICTIM_MESSAGE = "Hello! What can you help me with on this platform?"
# What the worker and the API still run after an attack block, before the next quiet one.
SETTLING = ("worker", "api", "temporal", "redis")


def _ragged_csv() -> bytes:
    header = ",".join(f"c{index}" for index in range(200_000)).encode() + b"\n"
    return header + b"7\n" * ((MAX_UPLOAD_BYTES - len(header)) // 2)


def _distinct_keys_json() -> bytes:
    records, size, index = [], 2, 0
    while size < MAX_UPLOAD_BYTES - 64:
        record = json.dumps({f"key{index}": index})
        records.append(record)
        size += len(record) + 2
        index += 1
    return ("[" + ", ".join(records) + "]").encode()


def _deep_json() -> bytes:
    half = MAX_UPLOAD_BYTES // 2
    return b"[" * half + b"]" * half


WHITESPACE_STEPS = "Build a checklist: " + " " * 7_970 + "x"
WHITESPACE_GOALS = "Build a roadmap: we want to grow revenue" + " " * 7_940 + "x"
UNKNOWN_WORDS = " ".join(f"zq{index:05d}x" for index in range(790))


class Attacker:
    """One client, several sessions (one per liaison it abuses), busy until killed.

    It runs in a process of its own (`python -m benchmarks.isolation ATTACK_URL`), so that
    building and sending its files costs the victim's client nothing; it prints one line per
    upload or turn done.
    """

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.http_url = api_url.replace("ws://", "http://", 1)
        self.files = {
            "wide.csv": _ragged_csv(),
            "keys.json": _distinct_keys_json(),
            "deep.json": _deep_json(),
        }

    async def run(self) -> None:
        work = [
            ("/api/ws/liaison/content", ("wide.csv", "keys.json", "deep.json"), "parse {name}"),
            ("/api/ws/liaison/insights", ("wide.csv",), "summary statistics of {name}"),
            ("/api/ws/liaison/operations", (), WHITESPACE_STEPS),
            ("/api/ws/liaison/business_outcomes", (), WHITESPACE_GOALS),
            ("/api/ws/guide", (), UNKNOWN_WORDS),
        ]
        sockets = [await ChatSocket.open(self.api_url, path) for path, _, _ in work]
        async with httpx.AsyncClient(base_url=self.http_url, timeout=120) as http:
            while True:
                for socket, (_, names, message) in zip(sockets, work, strict=True):
                    for name in names:
                        await self._upload(http, socket, name)
                        await self._turn(socket, message.format(name=name))
                    if not names:
                        await self._turn(socket, message)

    async def _upload(self, http: httpx.AsyncClient, socket: ChatSocket, name: str) -> None:
        response = await http.post(
            "/api/uploads",
            params={"session_token": socket.session_token, "filename": name},
            content=self.files[name],
        )
        _report("upload" if response.status_code < 400 else "refused")

    async def _turn(self, socket: ChatSocket, message: str) -> None:
        try:
            await socket.turn(message)
            _report("turn")
        except TurnFailed:
            _report("refused")


def _report(what: str) -> None:
    print(what, flush=True)  # the attacker process is a CLI: the scenario reads its lines


async def _victim_block(victim: ChatSocket, seconds: float) -> list[float]:
    firsts = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        timing = await victim.turn(VICTIM_MESSAGE)
        if timing.first_chunk is not None:
            firsts.append(timing.first_chunk)
        await asyncio.sleep(VICTIM_PAUSE_SECONDS)
    return firsts


@contextlib.contextmanager
def _cores(stack: BenchStack, into: dict[str, float]) -> Iterator[None]:
    """Adds the CPU seconds each stack process (and the rest of the machine) used meanwhile."""
    before, (busy_before, ours_before) = stack.cpu_seconds(SETTLING), stack.load_seconds()
    yield
    after, (busy_after, ours_after) = stack.cpu_seconds(SETTLING), stack.load_seconds()
    for name, value in after.items():
        into[name] = into.get(name, 0.0) + value - before[name]
    other = (busy_after - busy_before) - (ours_after - ours_before)
    into["other"] = into.get("other", 0.0) + other


async def _attack(api_url: str, counts: Counter[str], started: asyncio.Event) -> None:
    """Run the attacker process until cancelled, counting what it reports."""
    attacker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.isolation", api_url, stdout=asyncio.subprocess.PIPE
    )
    assert attacker.stdout is not None
    try:
        async for line in attacker.stdout:
            counts[line.decode().strip()] += 1
            started.set()
    finally:
        if attacker.returncode is None:
            attacker.kill()
        await attacker.wait()


async def isolation(stack: BenchStack, seconds: float, progress: Progress) -> dict[str, Any]:
    """Another session's time to first chunk, quiet and while one client attacks."""
    progress.say(f"isolation - {BLOCKS} x {seconds:.0f} s quiet, then as long under attack")
    victim = await ChatSocket.open(stack.api_url)
    quiet: list[float] = []
    attacked: list[float] = []
    counts: Counter[str] = Counter()
    cores: dict[str, dict[str, float]] = {"quiet": {}, "attacked": {}}
    try:
        await _victim_block(victim, 1.0)  # warm-up
        for block in range(1, BLOCKS + 1):
            with _cores(stack, cores["quiet"]):
                quiet += await _victim_block(victim, seconds)
            started = asyncio.Event()
            attack = asyncio.create_task(_attack(stack.api_url, counts, started))
            # Measure from the attacker's first upload: building its files is not the attack.
            await asyncio.wait(
                [attack, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            if attack.done():
                attack.result()  # the attacker could not start: say why
            with _cores(stack, cores["attacked"]):
                attacked += await _victim_block(victim, seconds)
            attack.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await attack
            waited = await stack.quiesce(SETTLING)
            progress.say(
                f"  block {block}/{BLOCKS}: attacker so far {dict(counts)}; settled in {waited} s"
            )
    finally:
        await victim.close()
    quiet_ms, attacked_ms = summary(quiet), summary(attacked)
    result = {
        "quiet": quiet_ms,
        "attacked": attacked_ms,
        "p50_ratio": ratio(attacked_ms.get("p50_ms"), quiet_ms.get("p50_ms")),
        "p99_ratio": ratio(attacked_ms.get("p99_ms"), quiet_ms.get("p99_ms")),
        "target_ratio": TARGET_RATIO,
        "attacker": dict(counts),
        # Cores each stack process (with its live children) used on average during the
        # blocks; "other" is the rest of the machine: the attacker client, capability
        # processes that ended between samples, and whatever else the host runs.
        "cores": {
            condition: {name: round(value / (BLOCKS * seconds), 2) for name, value in used.items()}
            for condition, used in cores.items()
        },
    }
    progress.say(
        f"  first chunk quiet p50 {quiet_ms.get('p50_ms')} / p99 {quiet_ms.get('p99_ms')} ms; "
        f"attacked p50 {attacked_ms.get('p50_ms')} / p99 {attacked_ms.get('p99_ms')} ms; "
        f"ratios {result['p50_ratio']} / {result['p99_ratio']}"
    )
    return result


if __name__ == "__main__":
    asyncio.run(Attacker(sys.argv[1]).run())
