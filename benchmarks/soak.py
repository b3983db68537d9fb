"""`--soak MINUTES`: 50 sessions chat back to back for MINUTES; every message must be answered
and recorded once, and the memory of each server must stay flat.

Memory is the resident set of each process (with its children), sampled every few seconds.
The first quarter of the run is warm-up (caches, connection pools, the workflow cache filling);
growth is measured from there to the end, so a steady leak shows and a one-off allocation does
not.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psutil
from websockets.asyncio.client import connect

from benchmarks.load import OPERATION_TIMEOUT
from benchmarks.progress import Progress
from benchmarks.stack import BenchStack
from benchmarks.ws_client import ChatSocket, TurnFailed, close_many, open_many

SESSIONS = 50
SAMPLE_SECONDS = 5.0
MEASURED = ("api", "worker", "temporal", "redis")
# Growth from the end of warm-up to the end that still counts as flat: the larger of the two.
FLAT_FRACTION = 0.10
FLAT_BYTES = 16 * 2**20
# A pause between a session's turns, as a person reads the reply; it keeps 50 sessions from
# holding two cores at 100 % for the whole run, which is a different test.
THINK_SECONDS = 1.0
RESEND_SECONDS = 1.0


@dataclass
class Session:
    socket: ChatSocket
    sent: int = 0
    answered: int = 0
    # Messages sent again after `unavailable`, with the same client_message_id.
    resent: int = 0
    failures: dict[str, int] = field(default_factory=dict)


def _rss(process: psutil.Process) -> int:
    total = 0
    for each in [process, *process.children(recursive=True)]:
        try:
            total += each.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


async def _chat(session: Session, end: float, numbers: itertools.count[int]) -> None:
    while time.monotonic() < end:
        session.sent += 1
        text = f"Hello! What can you help me with on this platform? ({next(numbers)})"
        client_message_id = uuid.uuid4().hex
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                while True:
                    try:
                        await session.socket.turn(text, client_message_id)
                        break
                    except TurnFailed as refusal:
                        # The page keeps a message refused as `unavailable` and sends it again
                        # with the same id; it is lost only if that never succeeds.
                        if str(refusal) != "unavailable":
                            raise
                        session.resent += 1
                        await asyncio.sleep(RESEND_SECONDS)
            session.answered += 1
        except (TurnFailed, TimeoutError, OSError) as error:
            kind = type(error).__name__
            if isinstance(error, TurnFailed):
                kind += f":{error}"
            session.failures[kind] = session.failures.get(kind, 0) + 1
            return
        await asyncio.sleep(THINK_SECONDS)


async def _recorded(stack: BenchStack, token: str) -> int:
    """How many messages the session's guide conversation holds, read on a fresh socket."""
    async with connect(f"{stack.api_url}/api/ws/guide?session_token={token}") as websocket:
        while True:
            frame = json.loads(await websocket.recv())
            if frame["type"] == "conversation_restored":
                return int(frame["message_count"])


def _verdict(samples: list[dict[str, int]]) -> dict[str, Any]:
    warm = samples[len(samples) // 4]
    start, end = samples[0], samples[-1]
    processes: dict[str, Any] = {}
    for name in MEASURED:
        growth = end[name] - warm[name]
        allowed = max(FLAT_FRACTION * warm[name], FLAT_BYTES)
        processes[name] = {
            "rss_start_mb": round(start[name] / 2**20, 1),
            "rss_after_warmup_mb": round(warm[name] / 2**20, 1),
            "rss_end_mb": round(end[name] / 2**20, 1),
            "rss_peak_mb": round(max(s[name] for s in samples) / 2**20, 1),
            "growth_after_warmup_mb": round(growth / 2**20, 1),
            "flat": growth <= allowed,
        }
    return processes


async def soak(stack: BenchStack, minutes: float, progress: Progress) -> dict[str, Any]:
    meters = {name: stack.process(name) for name in MEASURED}
    sockets = await open_many(lambda: ChatSocket.open(stack.api_url), SESSIONS)
    sessions = [Session(socket) for socket in sockets]
    samples: list[dict[str, int]] = []
    numbers = itertools.count(1)
    end = time.monotonic() + minutes * 60

    async def sample() -> None:
        while True:
            samples.append({name: _rss(meter) for name, meter in meters.items()})
            await asyncio.sleep(SAMPLE_SECONDS)

    def status() -> str:
        answered = sum(s.answered for s in sessions)
        api_mb = samples[-1]["api"] / 2**20 if samples else 0
        return f"{answered} turns answered, API RSS {api_mb:.0f} MB"

    sampler = asyncio.create_task(sample())
    progress.say(f"soak: {SESSIONS} sessions for {minutes:g} min")
    started = time.monotonic()
    async with progress.ticking("soak", status, every=15):
        await asyncio.gather(*(_chat(session, end, numbers) for session in sessions))
    seconds = time.monotonic() - started
    samples.append({name: _rss(meter) for name, meter in meters.items()})
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    recorded = await asyncio.gather(
        *(_recorded(stack, session.socket.session_token) for session in sessions)
    )
    await close_many(sockets)
    # Each answered turn records the message and its reply; anything else is lost or doubled.
    missing = sum(
        max(0, 2 * s.answered - count) for s, count in zip(sessions, recorded, strict=True)
    )
    extra = sum(max(0, count - 2 * s.sent) for s, count in zip(sessions, recorded, strict=True))
    failures: dict[str, int] = {}
    for session in sessions:
        for kind, count in session.failures.items():
            failures[kind] = failures.get(kind, 0) + count
    processes = _verdict(samples)
    return {
        "sessions": SESSIONS,
        "minutes": minutes,
        "seconds": round(seconds, 1),
        "sent": sum(s.sent for s in sessions),
        "answered": sum(s.answered for s in sessions),
        "lost": sum(s.sent - s.answered for s in sessions) + missing,
        "duplicated": extra,
        "resent_after_unavailable": sum(s.resent for s in sessions),
        "failures": failures,
        "rss_samples": len(samples),
        "processes": processes,
        "memory_flat": all(p["flat"] for p in processes.values()),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Soak: {result['sessions']} sessions for {result['minutes']:g} min: "
        f"{result['answered']} of {result['sent']} turns answered, lost {result['lost']}, "
        f"duplicated {result['duplicated']}, resent after `unavailable` "
        f"{result['resent_after_unavailable']}, failures {result['failures'] or 'none'}",
        "",
        "| process | RSS start (MB) | after warm-up (MB) | end (MB) | peak (MB) "
        "| growth after warm-up (MB) | flat |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, p in result["processes"].items():
        lines.append(
            f"| {name} | {p['rss_start_mb']} | {p['rss_after_warmup_mb']} | {p['rss_end_mb']} "
            f"| {p['rss_peak_mb']} | {p['growth_after_warmup_mb']} "
            f"| {'flat' if p['flat'] else 'NOT FLAT'} |"
        )
    verdict = "flat" if result["memory_flat"] else "NOT flat"
    lines += ["", f"Memory: {verdict} (growth after warm-up within max(10 %, 16 MB))."]
    return "\n".join(lines)
