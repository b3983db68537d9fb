"""Which capabilities ask first, what a missing input asks, and how answers change a request."""

from __future__ import annotations

from agents.capabilities import Capability, CapabilityRequest
from agents.capabilities.asking import approval, asks_first, clarification, with_inputs
from agents.catalog import AgentType

SOP = CapabilityRequest(
    Capability.BUILD_SOP,
    AgentType.OPERATIONS_LIAISON,
    "asked",
    text="1. Greet\n2. Set up laptop",
    text_seq=3,
)
PARSE = CapabilityRequest(Capability.PARSE_FILE, AgentType.CONTENT_LIAISON, "asked")


def test_slow_or_keeping_capabilities_ask_first_and_operators_override_them() -> None:
    assert asks_first(Capability.BUILD_SOP, {}) and asks_first(Capability.PARSE_FILE, {})
    assert not asks_first(Capability.SUMMARIZE_CSV, {})  # quick and read-only
    assert not asks_first(Capability.BUILD_SOP, {"build_sop": False})
    assert asks_first(Capability.SUMMARIZE_CSV, {"summarize_csv": True})


def test_a_missing_input_asks_for_it() -> None:
    assert clarification(PARSE, []).kind == "file"  # type: ignore[union-attr]
    assert clarification(PARSE, ["a.csv"]) is None
    named = CapabilityRequest(Capability.PARSE_FILE, AgentType.CONTENT_LIAISON, "x", "b.csv")
    choice = clarification(named, ["a.csv", "c.csv"])
    assert choice is not None and (choice.kind, choice.choices) == ("choice", ["a.csv", "c.csv"])
    no_steps = CapabilityRequest(Capability.BUILD_SOP, AgentType.OPERATIONS_LIAISON, "x")
    assert clarification(no_steps, []).kind == "text"  # type: ignore[union-attr]
    assert clarification(SOP, []) is None


def test_an_approval_shows_the_inputs_and_an_edit_replaces_them() -> None:
    proposal = approval(SOP, None)
    assert proposal.kind == "approval" and proposal.inputs["steps"] == SOP.text
    edited = with_inputs(SOP, {"steps": "1. Badge\n2. Desk"})
    # Edited text travels inline: the message it was taken from no longer names it.
    assert (edited.text, edited.text_seq, edited.seqs) == ("1. Badge\n2. Desk", None, [])
    assert with_inputs(PARSE, {"file": "notes.txt"}).upload_name == "notes.txt"
