"""One session's heavy capability does not hold up another session's reply, and it stops."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents.builtin import BuiltInResponder
from agents.capabilities import Capability, CapabilityRequest, Upload
from agents.catalog import AgentType, Pillar
from agents.orchestrators import BuiltInOrchestrator, OrchestratorRegistry
from agents.replies import CapabilityOutcome, WindowMessage
from tests.integration.chat_client import connect
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.integration.test_websocket import PATHS, open_session
from tests.stack import RunningStack

pytestmark = pytest.mark.integration

# Far longer than the capability deadline below and than the other session's whole turn.
SPIN_SECONDS = 90
DEADLINE_SECONDS = 10


@dataclass(frozen=True)
class SpinningOrchestrator:
    """An operations orchestrator whose capability is pure CPU work that holds the GIL, as a
    parser does on its worst input; it writes its process id to `marker` when it starts."""

    marker: str
    name: str = "SpinningOrchestrator"
    service_name: str = "operations"
    pillar: Pillar = Pillar.OPERATIONS
    liaison_agent: AgentType | None = AgentType.OPERATIONS_LIAISON

    def plan(self, message: str, window: Sequence[WindowMessage]) -> CapabilityRequest | None:
        return CapabilityRequest(Capability.BUILD_SOP, AgentType.OPERATIONS_LIAISON, "spin")

    async def run(self, request: CapabilityRequest, upload: Upload | None) -> CapabilityOutcome:
        Path(self.marker).write_text(str(os.getpid()))
        end = time.monotonic() + SPIN_SECONDS
        while time.monotonic() < end:
            pass
        return CapabilityOutcome(request.capability.value, True, "done spinning")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_a_heavy_capability_neither_delays_another_session_nor_outlives_its_deadline(
    stack: RunningStack, tmp_path: Path
) -> None:
    marker = tmp_path / "spinning"
    settings = settings_for(stack).model_copy(
        update={"capability_timeout_seconds": DEADLINE_SECONDS}
    )
    registry = OrchestratorRegistry(
        [
            BuiltInOrchestrator("ContentAnalysisOrchestrator", "content_analysis", Pillar.CONTENT),
            SpinningOrchestrator(str(marker)),
        ]
    )
    async with (
        serve_edge(settings, registry) as ws_url,
        run_worker(settings, BuiltInResponder(), registry),
        connect(ws_url, PATHS["operations_liaison"]) as heavy,
        connect(ws_url, PATHS["content_liaison"]) as other,
    ):
        await open_session(heavy)
        await open_session(other)
        await heavy.chat("Turn our process into an SOP")
        async with asyncio.timeout(30):
            while not marker.exists() or not marker.read_text():
                await asyncio.sleep(0.05)
        # The capability is spinning now; another session's whole turn still goes through.
        answered = await other.turn("Which file formats can I upload?")
        assert answered["agent_type"] == "content_liaison" and answered["message"]
        assert not any(frame["type"] == "chat_response" for frame in heavy.received)
        # The heavy turn ends at the deadline, says so, and its work is gone.
        stopped = await heavy.recv_type("chat_response", wait_seconds=DEADLINE_SECONDS + 30)
        assert (
            f"took longer than {DEADLINE_SECONDS} seconds, so I stopped it" in (stopped["message"])
        )
        assert not _running(int(marker.read_text()))
