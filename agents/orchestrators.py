"""Pillar orchestrators: where each pillar's business capabilities live.

Each pillar maps to one orchestrator, and each orchestrator names the liaison agent that talks
to users on its behalf. Customers plug their own orchestrators in by implementing
`PillarOrchestrator` and registering it in an `OrchestratorRegistry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agents.capabilities import CapabilityRequest, Upload, plan_capability, run_capability
from agents.catalog import AgentType, Pillar, liaison_for
from agents.replies import CapabilityOutcome, WindowMessage


class PillarOrchestrator(Protocol):
    """The extension point for a pillar: who it is and which liaison talks for it."""

    @property
    def name(self) -> str: ...

    @property
    def service_name(self) -> str: ...

    @property
    def pillar(self) -> Pillar: ...

    @property
    def liaison_agent(self) -> AgentType | None: ...


@runtime_checkable
class CapableOrchestrator(PillarOrchestrator, Protocol):
    """An orchestrator with capabilities its liaison can call; implementing them is optional.

    The liaison asks `plan` whether a message calls for a capability; the reply activity then
    loads what the request needs (the upload named by `request.upload_name`, or the session's
    most recent one) and awaits `run`, whose outcome the liaison's reply cites. `run` must not
    raise for bad input: it returns an outcome with `ok=False` and advice instead. The worker
    runs it in a child process killed at its deadline, so the orchestrator and its arguments
    must be picklable (a dataclass of settings is; an open client is not).
    """

    def plan(self, message: str, window: Sequence[WindowMessage]) -> CapabilityRequest | None: ...

    async def run(self, request: CapabilityRequest, upload: Upload | None) -> CapabilityOutcome: ...


@dataclass(frozen=True)
class BuiltInOrchestrator:
    """One of the four MVP orchestrators shipped with the platform."""

    name: str
    service_name: str
    pillar: Pillar

    @property
    def liaison_agent(self) -> AgentType | None:
        return liaison_for(self.pillar)

    def plan(self, message: str, window: Sequence[WindowMessage]) -> CapabilityRequest | None:
        """The pillar's capability this message asks for, if any (see agents/capabilities)."""
        return plan_capability(liaison_for(self.pillar), message, window)

    async def run(self, request: CapabilityRequest, upload: Upload | None) -> CapabilityOutcome:
        return run_capability(request, upload)


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

    def capabilities(self, agent_type: AgentType) -> CapableOrchestrator | None:
        """The orchestrator whose capabilities a liaison may call; None for the guide, an
        unserved pillar, or an orchestrator that offers no capabilities."""
        pillar = agent_type.pillar
        orchestrator = self._by_pillar.get(pillar) if pillar is not None else None
        return orchestrator if isinstance(orchestrator, CapableOrchestrator) else None


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
