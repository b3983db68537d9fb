"""Fakes of the turn activities, registered under the real activity names.

They keep what they were asked in memory so tests can assert on calls; the reply can be held
back with an event to test ordering and concurrency.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.agent_replies import GeneratedReply, GenerateReplyInput, reply_record
from activities.conductor import RouteDecision, RouteInput
from activities.intake import AcceptedMessage, AcceptMessageInput, Intake
from activities.orchestration import RunCapabilityInput
from activities.post_office import (
    ForgetSessionInput,
    HandoffInput,
    PublishStepInput,
    ReadMessageInput,
    RecordReplyInput,
    RecordResult,
    RecordUserMessageInput,
    TurnFailedInput,
)
from activities.questions import AskedQuestion, AskInput, ResolveInput
from activities.traffic_cop import AdmitInput
from agents.capabilities import Capability, CapabilityRequest
from agents.capabilities.asking import QuestionKind
from agents.catalog import AgentType
from agents.replies import CapabilityOutcome
from foundations.admission import Admission
from workers.composition import HEARTBEAT_THROTTLE, WORKFLOW_RUNNER
from workflows.chat_session import ChatSessionWorkflow


@dataclass
class FakeTurnActivities:
    admitted: list[AdmitInput] = field(default_factory=list)
    recorded_users: dict[str, RecordUserMessageInput] = field(default_factory=dict)
    replies_started: list[GenerateReplyInput] = field(default_factory=list)
    replies_recorded: list[RecordReplyInput] = field(default_factory=list)
    failures: list[TurnFailedInput] = field(default_factory=list)
    # Reply generation for a message text waits on this event when one is set.
    hold: dict[str, asyncio.Event] = field(default_factory=dict)
    # Set when generation for a message text has started.
    started: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    handoffs: list[HandoffInput] = field(default_factory=list)
    # Messages the guide hands to a liaison: text -> liaison.
    route_to: dict[str, AgentType] = field(default_factory=dict)
    refuse_with: Admission | None = None
    # Messages whose liaison runs a capability: text -> capability.
    capability_for: dict[str, Capability] = field(default_factory=dict)
    capabilities_run: list[RunCapabilityInput] = field(default_factory=list)
    messages_read: list[ReadMessageInput] = field(default_factory=list)
    # Capabilities that ask the person first: capability -> question kind. A "text" question
    # is asked while the request has no text (a clarifying question), then an approval.
    ask_kind: dict[Capability, QuestionKind] = field(default_factory=dict)
    questions_asked: list[AskInput] = field(default_factory=list)
    questions_resolved: list[ResolveInput] = field(default_factory=list)
    forgotten: list[ForgetSessionInput] = field(default_factory=list)
    steps_published: list[PublishStepInput] = field(default_factory=list)
    # Capability runs wait on this event when one is set.
    hold_capability: asyncio.Event | None = None
    _seq: dict[AgentType, int] = field(default_factory=lambda: defaultdict(int))
    _seqs: dict[str, int] = field(default_factory=dict)

    @activity.defn(name="admit_message")
    async def admit_message(self, input: AdmitInput) -> Admission:
        self.admitted.append(input)
        return self.refuse_with or Admission(True)

    @activity.defn(name="record_user_message")
    async def record_user_message(self, input: RecordUserMessageInput) -> RecordResult:
        first = self.recorded_users.get(input.message_id)
        if first is not None:
            return RecordResult("1-0", 0, first_time=first.owner == input.owner)
        self.recorded_users[input.message_id] = input
        self._seq[input.conversation] += 1
        self._seqs[input.message_id] = self._seq[input.conversation]
        return RecordResult(f"{len(self.recorded_users)}-0", self._seq[input.conversation], True)

    @activity.defn(name="accept_message")
    async def accept_message(self, input: AcceptMessageInput) -> AcceptedMessage:
        """The real intake, over the fakes of the steps it stands for."""
        return await Intake(cast(Any, self), cast(Any, self), cast(Any, self)).accept_message(input)

    async def all_answered(
        self, session_id: str, conversation: AgentType, message_ids: list[str]
    ) -> bool:
        answered = {recorded.in_reply_to for recorded in self.replies_recorded}
        return answered.issuperset(message_ids)

    @activity.defn(name="read_message")
    async def read_message(self, input: ReadMessageInput) -> str:
        self.messages_read.append(input)
        return next(
            recorded.content
            for recorded in self.recorded_users.values()
            if recorded.conversation is input.conversation
            and self._seqs[recorded.message_id] == input.seq
        )

    @activity.defn(name="forget_session")
    async def forget_session(self, input: ForgetSessionInput) -> None:
        self.forgotten.append(input)

    @activity.defn(name="route")
    async def route(self, input: RouteInput) -> RouteDecision:
        liaison = self.route_to.get(input.message)
        decision = (
            RouteDecision(liaison, handoff_reason=f"{liaison.value} knows this best")
            if liaison is not None
            else RouteDecision(input.conversation)
        )
        capability = self.capability_for.get(input.message)
        if capability is not None:
            decision.capability = CapabilityRequest(capability, decision.author, "asked for it")
        return decision

    @activity.defn(name="run_capability")
    async def run_capability(self, input: RunCapabilityInput) -> CapabilityOutcome:
        self.capabilities_run.append(input)
        if self.hold_capability is not None:
            await self.hold_capability.wait()
        return CapabilityOutcome(input.request.capability.value, True, "3 rows, 2 columns")

    @activity.defn(name="ask")
    async def ask(self, input: AskInput) -> AskedQuestion | None:
        kind: QuestionKind | None = self.ask_kind.get(input.request.capability)
        if kind is None or (kind == "text" and input.request.text):
            return None
        self.questions_asked.append(input)
        if kind == "approval":
            return AskedQuestion(input.question_id, kind, {"title": "Onboarding", "steps": "a\nb"})
        choices = ["a.csv", "b.csv"] if kind == "choice" else []
        return AskedQuestion(input.question_id, kind, choices=choices)

    @activity.defn(name="resolve")
    async def resolve(self, input: ResolveInput) -> None:
        self.questions_resolved.append(input)

    @activity.defn(name="announce_handoff")
    async def announce_handoff(self, input: HandoffInput) -> str:
        self.handoffs.append(input)
        return "8-0"

    @activity.defn(name="generate_reply")
    async def generate_reply(self, input: GenerateReplyInput) -> GeneratedReply:
        self.replies_started.append(input)
        self.started[input.message].set()
        reply = GeneratedReply(input.message_id, f"reply to {input.message}")
        held = self.hold.get(input.message)
        if held is not None:
            try:
                while not held.is_set():
                    activity.heartbeat()
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                reply = GeneratedReply(input.message_id, "partial", cancelled=True)
        if input.record:  # as the real activity does: recorded in the same step
            await self.record_reply(reply_record(input, reply, timestamp=""))
            reply.recorded = True
        return reply

    @activity.defn(name="record_reply")
    async def record_reply(self, input: RecordReplyInput) -> RecordResult:
        self.replies_recorded.append(input)
        return RecordResult("9-0", 0, True)

    @activity.defn(name="publish_step")
    async def publish_step(self, input: PublishStepInput) -> str:
        self.steps_published.append(input)
        return "9-2"

    @activity.defn(name="report_turn_failure")
    async def report_turn_failure(self, input: TurnFailedInput) -> str:
        self.failures.append(input)
        return "9-1"

    def all(self) -> list[Any]:
        return [
            self.accept_message,
            self.admit_message,
            self.record_user_message,
            self.read_message,
            self.forget_session,
            self.route,
            self.run_capability,
            self.generate_reply,
            self.record_reply,
            self.announce_handoff,
            self.report_turn_failure,
            self.ask,
            self.resolve,
            self.publish_step,
        ]

    def replies_for(self, conversation: AgentType) -> list[str]:
        return [r.content for r in self.replies_recorded if r.conversation is conversation]


def fake_worker(
    client: Client, task_queue: str, fakes: FakeTurnActivities, *, cache: bool = True
) -> Worker:
    """The session workflow as production runs it, with the fakes for activities; without
    `cache`, each workflow task replays the history (as a newly started worker would)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ChatSessionWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
        activities=fakes.all(),
        default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        max_cached_workflows=1000 if cache else 0,
    )
