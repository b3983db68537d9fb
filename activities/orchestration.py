"""Pillar orchestrators' capabilities, run for a liaison as an activity."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

from temporalio import activity

from agents.capabilities import Capability, CapabilityRequest, Upload
from agents.capabilities.content import UploadMetadata
from agents.capabilities.planning import OUT_OF_MEMORY
from agents.catalog import AgentType
from agents.orchestrators import CapableOrchestrator, OrchestratorRegistry
from agents.replies import CapabilityOutcome
from foundations.communication import CommunicationFoundation, Conversation
from foundations.gateway import Realm
from foundations.payloads import truncate_to_payload_bytes
from foundations.processes import ProcessRunner, WorkCrashed, WorkTimedOut
from foundations.uploads import UploadStore

# Which uploads each capability can read, when the user did not name one.
READABLE_KINDS = {
    Capability.PARSE_FILE: frozenset({"csv", "json", "text"}),
    Capability.SUMMARIZE_CSV: frozenset({"csv"}),
}


# A capability's summary travels to the reply activity inside its input: at most this many
# bytes of payload (see PAYLOAD_BUDGET_BYTES in workflows/session_payloads.py).
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


def _run_in_child(
    orchestrator: CapableOrchestrator, request: CapabilityRequest, upload: Upload | None
) -> CapabilityOutcome:
    """The capability, run to completion in a child process with an event loop of its own."""
    return asyncio.run(orchestrator.run(request, upload))


@dataclass(frozen=True)
class OrchestrationNeeds:
    """What Orchestration takes from the Platform Gateway."""

    orchestrators: OrchestratorRegistry
    file_storage: UploadStore[UploadMetadata]
    communication_foundation: CommunicationFoundation


class Orchestration:
    """Loads what a capability needs and runs it on the pillar's orchestrator.

    The run happens in a child process (foundations/processes.py): a parse is CPU work that
    would otherwise stall this worker's event loop, and so every reply streaming through it,
    and the child is killed at `timeout_seconds`, so a capability past its time really stops.
    """

    REALM = Realm.BUSINESS_ENABLEMENT
    USES = OrchestrationNeeds

    def __init__(
        self,
        orchestrators: OrchestratorRegistry,
        uploads: UploadStore[UploadMetadata],
        communication: CommunicationFoundation,
        runner: ProcessRunner,
        timeout_seconds: float,
    ) -> None:
        self._orchestrators = orchestrators
        self._uploads = uploads
        self._communication = communication
        self._runner = runner
        self._timeout_seconds = timeout_seconds

    @activity.defn
    async def run_capability(self, input: RunCapabilityInput) -> CapabilityOutcome:
        """The outcome the liaison's reply cites; bad input gives advice, not an error."""
        request = input.request
        if request.seqs:
            conversation = Conversation(input.session_id, input.conversation or request.liaison)
            texts = await self._communication.messages(conversation, request.seqs)
            request = request.with_texts(texts)
        orchestrator = self._orchestrators.capabilities(request.liaison)
        if orchestrator is None:
            return CapabilityOutcome(
                request.capability.value,
                ok=False,
                summary="This pillar's orchestrator offers no capabilities right now.",
            )
        upload = None
        if request.capability.needs_upload:
            upload = await self._load(
                input.session_id,
                request.upload_name,
                READABLE_KINDS.get(request.capability, frozenset()),
            )
        activity.logger.info("running %s for %s", request.capability.value, request.liaison.value)
        try:
            outcome = await self._runner.run(
                _run_in_child, orchestrator, request, upload, seconds=self._timeout_seconds
            )
        except WorkTimedOut:
            activity.logger.warning(
                "%s stopped after %s s", request.capability.value, self._timeout_seconds
            )
            return CapabilityOutcome(
                request.capability.value,
                ok=False,
                summary=(
                    f"That took longer than {self._timeout_seconds:g} seconds, so I stopped it. "
                    "Try a smaller file (fewer rows or columns) or a shorter description."
                ),
            )
        except (WorkCrashed, MemoryError):
            activity.logger.exception("%s ran out of resources", request.capability.value)
            return CapabilityOutcome(request.capability.value, ok=False, summary=OUT_OF_MEMORY)
        summary = truncate_to_payload_bytes(
            outcome.summary, CAPABILITY_SUMMARY_MAX_BYTES, _TRUNCATED
        )
        return dataclasses.replace(outcome, summary=summary)

    async def _load(
        self, session_id: str, name: str | None, kinds: frozenset[str]
    ) -> Upload | None:
        """The named upload, or the most recent one of the given kinds; None if there is none."""
        uploads = await self._uploads.list(session_id)
        if name is not None:
            chosen = next((u for u in uploads if u.name.casefold() == name.casefold()), None)
        else:
            chosen = next((u for u in reversed(uploads) if u.kind in kinds), None)
        if chosen is None:
            return None
        data = await self._uploads.read(session_id, chosen.name)
        if data is None:
            return None
        return Upload(chosen.name, data, chosen.media_type)
