"""Payloads written before `conversation` and `author` were named apart keep their meaning.

The committed histories without a `.conversation_author` suffix were written while one field,
`agent_type`, meant the conversation in some payloads and the agent writing the reply in others.
A session running when the new version is deployed holds such payloads in its history: accepted
updates and signals, route decisions in local activity markers, reply and capability activities
scheduled but not yet run, and the input its run was continued with. Each test takes those
payloads, byte for byte, from a committed history and decodes them as a worker of this version
does (foundations/payload_converter.py), then checks that every value lands in the field that
now carries its meaning.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from activities.agent_replies import GenerateReplyInput
from activities.conductor import RouteDecision
from activities.orchestration import RunCapabilityInput
from agents.capabilities import Capability
from agents.catalog import AgentType
from foundations.payload_converter import DATA_CONVERTER
from workflows.chat_session import CancelReplyInput, ChatSessionInput, SubmitMessageInput

HISTORIES = Path(__file__).parent / "histories"
GUIDE = AgentType.GUIDE
CONTENT = AgentType.CONTENT_LIAISON
INSIGHTS = AgentType.INSIGHTS_LIAISON
T = TypeVar("T")


def _events(name: str) -> list[HistoryEvent]:
    return list(WorkflowHistory.from_json(name, (HISTORIES / name).read_text()).events)


HANDOFF = _events("handoff_capability_cancel.json")


def _decode(payload: Payload, cls: type[T]) -> T:
    decoded: T = DATA_CONVERTER.payload_converter.from_payloads([payload], [cls])[0]
    return decoded


def _old_shape(payload: Payload) -> dict[str, Any]:
    """The payload's JSON: the old name is in it, the new names are not."""
    value: dict[str, Any] = json.loads(payload.data)
    assert "agent_type" in value and "author" not in value
    return value


def _updates() -> Iterator[Payload]:
    for event in HANDOFF:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            accepted = event.workflow_execution_update_accepted_event_attributes
            yield accepted.accepted_request.input.args.payloads[0]


def _scheduled(activity: str) -> Iterator[Payload]:
    for event in HANDOFF:
        scheduled = event.activity_task_scheduled_event_attributes
        if scheduled.activity_type.name == activity:
            yield scheduled.input.payloads[0]


def _local_results(activity: str) -> Iterator[Payload]:
    for event in HANDOFF:
        details = event.marker_recorded_event_attributes.details
        if "result" in details and _local_activity_type(details["data"].payloads[0]) == activity:
            yield details["result"].payloads[0]


def _local_activity_type(marker_data: Payload) -> str:
    activity_type: str = json.loads(marker_data.data)["activity_type"]
    return activity_type


def test_old_messages_are_decoded_into_their_conversation() -> None:
    payloads = list(_updates())
    assert all("conversation" not in _old_shape(p) for p in payloads)
    decoded = [_decode(p, SubmitMessageInput) for p in payloads]
    assert [(d.conversation, d.message) for d in decoded] == [
        (GUIDE, "how do I upload?"),
        (INSIGHTS, "summarize sales.csv"),
        (GUIDE, "long story"),
        (GUIDE, "never mind"),
    ]


def test_old_stop_signals_are_decoded_into_their_conversation() -> None:
    signals = [
        event.workflow_execution_signaled_event_attributes.input.payloads[0]
        for event in HANDOFF
        if event.HasField("workflow_execution_signaled_event_attributes")
        and event.workflow_execution_signaled_event_attributes.signal_name == "cancel_reply"
    ]
    assert all("conversation" not in _old_shape(p) for p in signals)
    decoded = [_decode(p, CancelReplyInput) for p in signals]
    assert [d.conversation for d in decoded] == [GUIDE, GUIDE]


def test_an_old_route_decision_names_the_liaison_as_author() -> None:
    handoff, capability, guide, _ = (_decode(p, RouteDecision) for p in _local_results("route"))
    assert (handoff.author, handoff.handoff_reason) == (CONTENT, "content_liaison knows this best")
    assert capability.author is INSIGHTS and capability.capability is not None
    # A capability request nested in an old decision is read under its new name too.
    assert (capability.capability.capability, capability.capability.liaison) == (
        Capability.SUMMARIZE_CSV,
        INSIGHTS,
    )
    assert (guide.author, guide.handoff_reason) == (GUIDE, None)


def test_an_old_scheduled_reply_keeps_its_author_apart_from_its_conversation() -> None:
    payloads = list(_scheduled("generate_reply"))
    handed_off = _old_shape(payloads[0])
    assert (handed_off["conversation"], handed_off["agent_type"]) == ("guide", "content_liaison")
    decoded = [_decode(p, GenerateReplyInput) for p in payloads]
    # The liaison writes the reply to a message handed over from the guide's conversation.
    assert [(d.conversation, d.author, d.message) for d in decoded] == [
        (GUIDE, CONTENT, "how do I upload?"),
        (INSIGHTS, INSIGHTS, "summarize sales.csv"),
        (GUIDE, GUIDE, "long story"),
    ]


def test_an_old_scheduled_capability_names_its_liaison() -> None:
    [payload] = _scheduled("run_capability")
    assert "agent_type" in json.loads(payload.data)["request"]
    decoded = _decode(payload, RunCapabilityInput)
    assert (decoded.request.capability, decoded.request.liaison) == (
        Capability.SUMMARIZE_CSV,
        INSIGHTS,
    )


def test_an_old_continue_as_new_input_carries_its_pending_turns() -> None:
    started = _events("pending_texts_read_back_closed.json")[0]
    payload = started.workflow_execution_started_event_attributes.input.payloads[0]
    decoded = _decode(payload, ChatSessionInput)
    [turn] = decoded.conversations[GUIDE].pending
    assert (turn.seq, turn.message, turn.event_id) == (9, "", "")
    assert decoded.conversations[GUIDE].turns_completed == 3


def test_temporals_own_converter_cannot_read_the_old_names() -> None:
    """Why the workers need foundations/payload_converter.py."""
    payload = next(_scheduled("generate_reply"))
    with pytest.raises(TypeError, match="author"):
        DataConverter.default.payload_converter.from_payloads([payload], [GenerateReplyInput])


def test_new_payloads_carry_the_former_names_for_the_previous_release() -> None:
    """Workers of the previous release, beside new ones in a rolling deploy, read `agent_type`."""
    reply = GenerateReplyInput("s", GUIDE, CONTENT, "r-m-1", "m-1", 1, "how do I upload?")
    [payload] = DATA_CONVERTER.payload_converter.to_payloads([reply])
    written = json.loads(payload.data)
    assert (written["conversation"], written["author"]) == ("guide", "content_liaison")
    # The previous release read the author of a reply from `agent_type`.
    assert written["agent_type"] == "content_liaison"
    assert _decode(payload, GenerateReplyInput) == reply
