"""The questions a liaison asks before it runs a capability: what to ask, and telling the tabs.

Deciding needs I/O (the messages a request names, the session's uploads), so it happens here;
the workflow (workflows/questions.py) owns the wait, the deadline and the first answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from activities.orchestration import READABLE_KINDS
from agents.capabilities import CapabilityRequest
from agents.capabilities.asking import (
    Proposal,
    QuestionKind,
    approval,
    asks_first,
    clarification,
)
from agents.capabilities.content import UploadMetadata
from agents.catalog import AgentType
from foundations.communication import CommunicationFoundation, Conversation
from foundations.questions import QuestionBook
from foundations.server_events import QuestionAsked, QuestionOutcome, QuestionResolved
from foundations.uploads import UploadStore


@dataclass
class AskInput:
    session_id: str
    # Where the turn runs: the question is shown there.
    conversation: AgentType
    in_reply_to: str
    request: CapabilityRequest
    # Chosen by the workflow, so that a retried step asks the same question.
    question_id: str
    deadline: str
    # False once the person approved this turn's capability: only missing input is asked.
    approval: bool = True


@dataclass
class AskedQuestion:
    question_id: str
    kind: QuestionKind
    inputs: dict[str, str] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)


@dataclass
class ResolveInput:
    session_id: str
    conversation: AgentType
    question_id: str
    outcome: QuestionOutcome
    answer: dict[str, Any] | None = None


class Questions:
    """Decides whether a capability run asks first, and publishes questions and resolutions."""

    def __init__(
        self,
        communication: CommunicationFoundation,
        uploads: UploadStore[UploadMetadata],
        book: QuestionBook,
        asks_first_overrides: Mapping[str, bool],
    ) -> None:
        self._communication = communication
        self._uploads = uploads
        self._book = book
        self._overrides = dict(asks_first_overrides)

    @activity.defn
    async def ask(self, input: AskInput) -> AskedQuestion | None:
        """Ask for what the request lacks, or for approval when its capability asks first;
        None: nothing to ask, run it."""
        request = input.request
        if request.seqs:
            conversation = Conversation(input.session_id, input.conversation)
            request = request.with_texts(
                await self._communication.messages(conversation, request.seqs)
            )
        uploads: list[str] = []
        if request.capability.needs_upload:
            kinds = READABLE_KINDS.get(request.capability, frozenset())
            uploads = [
                u.name for u in await self._uploads.list(input.session_id) if u.kind in kinds
            ]
        proposal: Proposal | None = clarification(request, uploads)
        if proposal is None and input.approval and asks_first(request.capability, self._overrides):
            proposal = approval(request, request.upload_name or (uploads[-1] if uploads else None))
        if proposal is None:
            return None
        question = QuestionAsked(
            agent_type=input.conversation,
            question_id=input.question_id,
            kind=proposal.kind,
            in_reply_to=input.in_reply_to,
            prompt=proposal.prompt,
            capability=request.capability.value,
            inputs=proposal.inputs or None,
            choices=proposal.choices or None,
            deadline=input.deadline,
        )
        await self._book.asked(input.session_id, question)
        await self._communication.publish(
            Conversation(input.session_id, input.conversation), question
        )
        activity.logger.info("asked %s question %s", proposal.kind, input.question_id)
        return AskedQuestion(input.question_id, proposal.kind, proposal.inputs, proposal.choices)

    @activity.defn
    async def resolve(self, input: ResolveInput) -> None:
        """Tell every tab how the question ended (once, however often this step runs)."""
        resolution = QuestionResolved(
            agent_type=input.conversation,
            question_id=input.question_id,
            outcome=input.outcome,
            answer=input.answer,
        )
        if await self._book.resolved(input.session_id, resolution):
            await self._communication.publish(
                Conversation(input.session_id, input.conversation), resolution
            )
