"""Conductor: decides which agent answers a message."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from agents.catalog import AgentType
from agents.orchestrators import OrchestratorRegistry
from foundations.gateway import Realm


@dataclass
class RouteInput:
    session_id: str
    # The conversation the message was sent in.
    conversation: AgentType
    message: str
    # The message's sequence number: the routing context is what came before it.
    seq: int = 0


@dataclass
class RouteDecision:
    # The agent that answers.
    agent_type: AgentType
    # Set when the guide hands the message to a pillar's liaison.
    handoff_reason: str | None = None


class Conductor:
    """Routes each message to the agent that should answer it."""

    REALM = Realm.SMART_CITY
    USES = ("orchestrators",)

    def __init__(self, orchestrators: OrchestratorRegistry) -> None:
        self._orchestrators = orchestrators

    @activity.defn
    async def route(self, input: RouteInput) -> RouteDecision:
        """A liaison conversation is answered by that pillar's liaison; the guide answers its own."""
        pillar = input.conversation.pillar
        if pillar is None:
            return RouteDecision(AgentType.GUIDE)
        return RouteDecision(self._orchestrators.liaison(pillar))
