"""A deployment without every pillar: close codes 4005 and 4006 from a real uvicorn server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn

from agents.catalog import AgentType, Pillar
from agents.orchestrators import BuiltInOrchestrator, OrchestratorRegistry
from api.main import create_app
from devstack.services import free_port
from foundations.settings import Settings
from tests.integration.chat_client import close_code
from tests.integration.conftest import RunningStack

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
    settings = Settings(
        temporal_address=stack.temporal_address, redis_url=stack.redis_url, task_queue="unused"
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, registry),
            host="127.0.0.1",
            port=port,
            ws="websockets-sansio",
            log_level="warning",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"ws://127.0.0.1:{port}"
    server.should_exit = True
    await serving


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
