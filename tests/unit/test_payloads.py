"""Payload sizes, cutting text to a size, and capability requests that name their texts."""

from __future__ import annotations

import json

from agents.capabilities import Capability, CapabilityRequest
from agents.capabilities.planning import plan_capability
from agents.catalog import AgentType
from agents.replies import WindowMessage
from foundations.payloads import payload_bytes, truncate_to_payload_bytes

EMOJI = "\N{GRINNING FACE}"


def test_an_emoji_takes_twelve_bytes_of_payload() -> None:
    assert payload_bytes(EMOJI * 10) == 122 == len(json.dumps(EMOJI * 10))


def test_text_over_the_cap_is_cut_with_the_note_and_fits() -> None:
    cut = truncate_to_payload_bytes(EMOJI * 10_000, 1_000, " [truncated]")
    assert cut.endswith(" [truncated]") and cut.startswith(EMOJI)
    assert payload_bytes(cut) <= 1_000
    assert truncate_to_payload_bytes("short", 1_000, " [truncated]") == "short"


def test_a_roadmap_request_names_earlier_turns_and_gets_them_back() -> None:
    goals = [f"Our goal is {n} " + EMOJI * 7_980 for n in range(25)]
    window = [WindowMessage("user", goal, seq=n + 1) for n, goal in enumerate(goals)]
    message = "Build a roadmap from our goals"
    planned = plan_capability(AgentType.BUSINESS_OUTCOMES_LIAISON, message, window)
    assert planned is not None and planned.capability is Capability.OUTLINE_ROADMAP
    sources = [(m.seq, m.content) for m in window] + [(26, message)]
    request = planned.by_reference(sources)
    assert request.statements == [] and request.statement_seqs == list(range(1, 27))
    assert len(json.dumps(request.__dict__, default=str)) < 2_000
    texts = dict(sources)
    assert request.with_texts(texts).statements == planned.statements


def test_an_sop_request_names_its_process_and_title() -> None:
    steps = "First we open the shop, then we count the till, then we unlock the doors."
    request = CapabilityRequest(
        Capability.BUILD_SOP, AgentType.OPERATIONS_LIAISON, "r", text=steps, title="Build an SOP"
    ).by_reference([(3, steps), (4, "Build an SOP")])
    assert (request.text, request.text_seq, request.title, request.title_seq) == ("", 3, None, 4)
    restored = request.with_texts({3: steps, 4: "Build an SOP"})
    assert (restored.text, restored.title) == (steps, "Build an SOP")


def test_a_request_quoting_a_huge_file_name_stays_small() -> None:
    message = "parse " + "\u6587" * 7_990 + ".csv"
    planned = plan_capability(AgentType.CONTENT_LIAISON, message)
    assert planned is not None and planned.upload_name is not None
    request = planned.by_reference([(1, message)])
    assert len(json.dumps(request.__dict__, default=str)) < 8_000
