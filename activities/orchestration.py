"""Pillar orchestrators' capabilities, run for a liaison as an activity."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from agents.capabilities import Capability, CapabilityRequest
from agents.orchestrators import OrchestratorRegistry
from agents.replies import CapabilityOutcome
from foundations.gateway import Realm
from foundations.uploads import UploadStore

# Which uploads each capability can read, when the user did not name one.
_READABLE_KINDS = {
    Capability.PARSE_FILE: frozenset({"csv", "json", "text"}),
    Capability.SUMMARIZE_CSV: frozenset({"csv"}),
}


@dataclass
class RunCapabilityInput:
    session_id: str
    request: CapabilityRequest


class Orchestration:
    """Loads what a capability needs and runs it on the pillar's orchestrator."""

    REALM = Realm.BUSINESS_ENABLEMENT
    USES = ("orchestrators", "file_storage")

    def __init__(self, orchestrators: OrchestratorRegistry, uploads: UploadStore) -> None:
        self._orchestrators = orchestrators
        self._uploads = uploads

    @activity.defn
    async def run_capability(self, input: RunCapabilityInput) -> CapabilityOutcome:
        """The outcome the liaison's reply cites; bad input gives advice, not an error."""
        request = input.request
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
        return await orchestrator.run(request, upload)
