"""Intake: a user message admitted, recorded and (when it can be) routed in one step.

Each of these was its own local activity inside the update's workflow task; every local
activity is a marker in the history and a round of the workflow's activation, and the reply
could start only after all of them. One activity does the three, through the same roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity

from activities.conductor import Conductor, RouteDecision, RouteInput
from activities.post_office import HandoffInput, PostOffice, RecordResult, RecordUserMessageInput
from activities.traffic_cop import AdmitInput, TrafficCop
from foundations.admission import Admission


@dataclass
class AcceptMessageInput:
    admit: AdmitInput
    record: RecordUserMessageInput
    # Route the message too, unless an earlier message of the conversation still waits for
    # its reply: routing reads the turns before the message, complete only once answered.
    route: bool = False
    # The messages whose turns the workflow still holds (their replies may be recorded by now).
    after: list[str] = field(default_factory=list)


@dataclass
class AcceptedMessage:
    admission: Admission
    # Set when admitted.
    recorded: RecordResult | None = None
    # Set when routed; a handoff it decides has been announced.
    decision: RouteDecision | None = None


class Intake:
    """Admission (Traffic Cop), recording (Post Office) and routing (Conductor) in one step."""

    def __init__(
        self, traffic_cop: TrafficCop, post_office: PostOffice, conductor: Conductor
    ) -> None:
        self._traffic_cop = traffic_cop
        self._post_office = post_office
        self._conductor = conductor

    @activity.defn
    async def accept_message(self, input: AcceptMessageInput) -> AcceptedMessage:
        """Admit the message, record it (publishing `message_accepted`), and route it."""
        admission = await self._traffic_cop.admit_message(input.admit)
        if not admission.admitted:
            return AcceptedMessage(admission)
        record = input.record
        recorded = await self._post_office.record_user_message(record)
        if not input.route or not recorded.first_time:
            return AcceptedMessage(admission, recorded)
        if not await self._post_office.all_answered(
            record.session_id, record.conversation, input.after
        ):
            return AcceptedMessage(admission, recorded)
        decision = await self._conductor.route(
            RouteInput(record.session_id, record.conversation, record.content, recorded.seq)
        )
        if decision.handoff_reason is not None:
            await self._post_office.announce_handoff(
                HandoffInput(
                    record.session_id,
                    record.conversation,
                    decision.author,
                    decision.handoff_reason,
                    record.message_id,
                )
            )
        return AcceptedMessage(admission, recorded, decision)
