"""A deployment without every pillar: close codes 4005 and 4006 from a real uvicorn server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from agents.catalog import AgentType, Pillar
from agents.orchestrators import BuiltInOrchestrator, OrchestratorRegistry
from tests.integration.chat_client import close_code
from tests.integration.custom_edge import serve_edge, settings_for
from tests.stack import RunningStack

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class SilentOrchestrator:
    """An orchestrator whose pillar has no liaison agent yet."""

    name: str = "OperationsOrchestrator"
    service_name: str = "operations"
    pillar: Pillar = Pillar.OPERATIONS

    @property
    def liaison_agent(self) -> AgentType | None:
        return None


@pytest.fixture
async def partial_edge(stack: RunningStack) -> AsyncIterator[str]:
    """An edge serving content (with its liaison) and operations (without), and no insights."""
    registry = OrchestratorRegistry(
        [
            BuiltInOrchestrator("ContentAnalysisOrchestrator", "content_analysis", Pillar.CONTENT),
            SilentOrchestrator(),
        ]
    )
    async with serve_edge(settings_for(stack), registry) as ws_url:
        yield ws_url


async def test_a_pillar_without_orchestrator_closes_with_4005(partial_edge: str) -> None:
    code, reason = await close_code(partial_edge, "/api/ws/liaison/insights")
    assert code == 4005
    assert reason and "insights" in reason


async def test_an_orchestrator_without_liaison_closes_with_4006(partial_edge: str) -> None:
    code, reason = await close_code(partial_edge, "/api/ws/liaison/operations")
    assert code == 4006
    assert reason and "liaison" in reason


async def test_the_pillars_it_serves_still_work(partial_edge: str) -> None:
    code, _ = await close_code(partial_edge, "/api/ws/liaison/astrology")
    assert code == 4004
