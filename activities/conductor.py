"""Conductor: decides which agent answers a message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from temporalio import activity

from agents.capabilities import CapabilityRequest
from agents.catalog import AgentType
from agents.orchestrators import OrchestratorRegistry
from agents.replies import WindowMessage
from agents.router import route
from foundations.communication import CommunicationFoundation, Conversation, window_before
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
    # The agent that answers: the author of the reply.
    author: AgentType
    # Set when the guide hands the message to a pillar's liaison.
    handoff_reason: str | None = None
    # Set when the answering liaison should run one of its orchestrator's capabilities first.
    capability: CapabilityRequest | None = None

    # Read from decisions that earlier versions recorded (foundations/payload_converter.py).
    RENAMED_FIELDS: ClassVar[dict[str, str]] = {"agent_type": "author"}


class Conductor:
    """Routes each message to the agent that should answer it.

    In a liaison's conversation the liaison answers. In the guide's, the router reads the
    message (and the turns before it, for follow-ups) and either lets the guide answer or
    hands the message to the pillar's liaison, if that pillar is served.
    """

    REALM = Realm.SMART_CITY
    USES = ("orchestrators", "communication_foundation")

    def __init__(
        self,
        orchestrators: OrchestratorRegistry,
        communication: CommunicationFoundation,
        window_messages: int,
    ) -> None:
        self._orchestrators = orchestrators
        self._communication = communication
        self._window_messages = window_messages

    @activity.defn
    async def route(self, input: RouteInput) -> RouteDecision:
        """Who answers, whether that is a handoff, and which capability to run."""
        window = await window_before(
            self._communication,
            Conversation(input.session_id, input.conversation),
            input.seq,
            self._window_messages,
        )
        decision = self._decide(input.conversation, input.message, window)
        orchestrator = self._orchestrators.capabilities(decision.author)
        planned = orchestrator.plan(input.message, window) if orchestrator is not None else None
        if planned is not None:
            # The request names the user's messages it needs instead of carrying them: every
            # earlier turn inline would push the workflow's payloads past its budget.
            sources = [(m.seq, m.content) for m in window if m.role == "user"]
            decision.capability = planned.by_reference([*sources, (input.seq, input.message)])
        return decision

    def _decide(
        self, conversation: AgentType, message: str, window: list[WindowMessage]
    ) -> RouteDecision:
        pillar = conversation.pillar
        if pillar is not None:
            return RouteDecision(self._orchestrators.liaison(pillar))
        routed = route(message, window)
        if routed.pillar is None:
            return RouteDecision(AgentType.GUIDE)
        try:
            liaison = self._orchestrators.liaison(routed.pillar)
        except LookupError:
            return RouteDecision(AgentType.GUIDE)  # that pillar is not served here
        return RouteDecision(liaison, handoff_reason=routed.reason)
