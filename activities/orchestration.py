"""Pillar orchestrators' capabilities, run for a liaison as an activity."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from temporalio import activity

from agents.capabilities import Capability, CapabilityRequest
from agents.catalog import AgentType
from agents.orchestrators import OrchestratorRegistry
from agents.replies import CapabilityOutcome
from foundations.communication import CommunicationFoundation, Conversation
from foundations.gateway import Realm
from foundations.payloads import truncate_to_payload_bytes
from foundations.uploads import UploadStore

# Which uploads each capability can read, when the user did not name one.
_READABLE_KINDS = {
    Capability.PARSE_FILE: frozenset({"csv", "json", "text"}),
    Capability.SUMMARIZE_CSV: frozenset({"csv"}),
}


# A capability's summary travels to the reply activity inside its input: at most this many
# bytes of payload (see PAYLOAD_BUDGET_BYTES in workflows/chat_session.py).
CAPABILITY_SUMMARY_MAX_BYTES = 48 * 1024
_TRUNCATED = (
    "\n\n[Truncated: the full result is longer than I can pass on in one reply. "
    "Ask about fewer columns or a smaller part of the file.]"
)


@dataclass
class RunCapabilityInput:
    session_id: str
    request: CapabilityRequest
    # The conversation whose messages the request names (see CapabilityRequest.by_reference);
    # None: the liaison's own.
    conversation: AgentType | None = None


class Orchestration:
    """Loads what a capability needs and runs it on the pillar's orchestrator."""

    REALM = Realm.BUSINESS_ENABLEMENT
    USES = ("orchestrators", "file_storage", "communication_foundation")

    def __init__(
        self,
        orchestrators: OrchestratorRegistry,
        uploads: UploadStore,
        communication: CommunicationFoundation,
    ) -> None:
        self._orchestrators = orchestrators
        self._uploads = uploads
        self._communication = communication

    @activity.defn
    async def run_capability(self, input: RunCapabilityInput) -> CapabilityOutcome:
        """The outcome the liaison's reply cites; bad input gives advice, not an error."""
        request = input.request
        if request.seqs:
            conversation = Conversation(input.session_id, input.conversation or request.agent_type)
            texts = await self._communication.messages(conversation, request.seqs)
            request = request.with_texts(texts)
        orchestrator = self._orchestrators.capabilities(request.agent_type)
        if orchestrator is None:
            return CapabilityOutcome(
                request.capability.value,
                ok=False,
                summary="This pillar's orchestrator offers no capabilities right now.",
            )
        upload = None
        if request.capability.needs_upload:
            upload = await self._uploads.load(
                input.session_id,
                request.upload_name,
                _READABLE_KINDS.get(request.capability, frozenset()),
            )
        activity.logger.info(
            "running %s for %s", request.capability.value, request.agent_type.value
        )
        outcome = await orchestrator.run(request, upload)
        summary = truncate_to_payload_bytes(
            outcome.summary, CAPABILITY_SUMMARY_MAX_BYTES, _TRUNCATED
        )
        return dataclasses.replace(outcome, summary=summary)
