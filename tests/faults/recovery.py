"""Recovery times, one row per fault, printed at the end of the run and kept as Markdown."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from devstack.services import ROOT

# The targets the platform promises; a row says whether its fault met them.
CRASH_RESTART_SECONDS = 10.0
UNAVAILABLE_SECONDS = 10.0
# A reply cut by a Redis restart completes this soon after Redis is back.
REDIS_BACK_SECONDS = 10.0


@dataclass
class Recovery:
    fault: str
    # Fault injected -> the in-flight message's first frame after it (chunk, restart, ack, error).
    back_seconds: float | None
    # Fault injected -> its reply complete at the client.
    done_seconds: float
    # A fresh turn sent once the reply was complete -> its reply complete.
    new_turn_seconds: float
    restarts: int
    unavailable: int
    reconnects: int
    # Times the client heard nothing for 30 s on an open socket and had to reconnect itself.
    stalls: int
    close_codes: str
    lost: int
    duplicated: int
    # The target for this fault, and whether this run met it.
    target: str = ""
    met: bool | None = None


ROWS: list[Recovery] = []

_HEADER = (
    "| fault | back (s) | done (s) | new turn (s) | reply_restarted | unavailable "
    "| reconnects | stalls | close codes | lost | duplicated | target | met |"
)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table() -> str:
    lines = [_HEADER, "|" + "---|" * 13]
    for row in ROWS:
        met = "" if row.met is None else ("yes" if row.met else "NO")
        lines.append(
            f"| {row.fault} | {_seconds(row.back_seconds)} | {_seconds(row.done_seconds)} "
            f"| {_seconds(row.new_turn_seconds)} | {row.restarts} | {row.unavailable} "
            f"| {row.reconnects} | {row.stalls} | {row.close_codes or '-'} | {row.lost} | {row.duplicated} "
            f"| {row.target or '-'} | {met} |"
        )
    return "\n".join(lines)


def write_table() -> Path:
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / "fault-recovery.md"
    path.write_text(table() + "\n")
    return path
