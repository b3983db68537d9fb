"""Pillar orchestrators: where each pillar's business capabilities live.

Each pillar maps to one orchestrator, and each orchestrator names the liaison agent that talks
to users on its behalf. Customers plug their own orchestrators in by implementing
`PillarOrchestrator` and registering it in an `OrchestratorRegistry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agents.catalog import AgentType, Pillar, liaison_for


class PillarOrchestrator(Protocol):
    """The extension point for a pillar's business capabilities."""

    @property
    def name(self) -> str: ...

    @property
    def service_name(self) -> str: ...

    @property
    def pillar(self) -> Pillar: ...

    @property
    def liaison_agent(self) -> AgentType | None: ...


@dataclass(frozen=True)
class BuiltInOrchestrator:
    """One of the four MVP orchestrators shipped with the platform."""

    name: str
    service_name: str
    pillar: Pillar

    @property
    def liaison_agent(self) -> AgentType | None:
        return liaison_for(self.pillar)


class OrchestratorNotAvailable(LookupError):
    """The pillar exists but no orchestrator is registered for it."""


class LiaisonNotAvailable(LookupError):
    """The pillar's orchestrator has no liaison agent to talk to."""


class OrchestratorRegistry:
    """Pillar -> orchestrator, the map the edge and the Conductor consult."""

    def __init__(self, orchestrators: list[PillarOrchestrator]) -> None:
        self._by_pillar = {orchestrator.pillar: orchestrator for orchestrator in orchestrators}

    def orchestrator(self, pillar: Pillar) -> PillarOrchestrator:
        try:
            return self._by_pillar[pillar]
        except KeyError:
            raise OrchestratorNotAvailable(f"no orchestrator serves the {pillar} pillar") from None

    def liaison(self, pillar: Pillar) -> AgentType:
        liaison = self.orchestrator(pillar).liaison_agent
        if liaison is None:
            raise LiaisonNotAvailable(f"the {pillar} orchestrator has no liaison agent")
        return liaison


def default_registry() -> OrchestratorRegistry:
    return OrchestratorRegistry(
        [
            BuiltInOrchestrator("ContentAnalysisOrchestrator", "content_analysis", Pillar.CONTENT),
            BuiltInOrchestrator("InsightsOrchestrator", "insights", Pillar.INSIGHTS),
            BuiltInOrchestrator("OperationsOrchestrator", "operations", Pillar.OPERATIONS),
            BuiltInOrchestrator(
                "BusinessOutcomesOrchestrator", "business_outcomes", Pillar.BUSINESS_OUTCOMES
            ),
        ]
    )
