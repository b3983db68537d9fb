"""The Guide's routing: who answers a message, and why."""

from __future__ import annotations

import pytest

from agents.catalog import AgentType, Pillar
from agents.evaluate_routing import evaluate, load_examples
from agents.replies import WindowMessage
from agents.router import RouteKind, route
from agents.text import terms

REQUIRED_ACCURACY = 0.90


def window(*user_turns: str) -> list[WindowMessage]:
    messages = []
    for turn in user_turns:
        messages += [WindowMessage("user", turn), WindowMessage("assistant", "Here you go.")]
    return messages


def test_the_labelled_set_is_large_and_varied() -> None:
    examples = load_examples()
    kinds = {example.kind for example in examples}

    assert len(examples) >= 200
    assert {"off_topic", "ambiguous", "follow_up", "typo"} <= kinds
    assert {example.label for example in examples} == {
        "guide",
        "content",
        "insights",
        "operations",
        "business_outcomes",
    }


def test_routing_accuracy_on_the_labelled_set() -> None:
    evaluation = evaluate(load_examples())

    assert evaluation.accuracy >= REQUIRED_ACCURACY, [e[0].text for e in evaluation.errors]


@pytest.mark.parametrize(
    ("message", "pillar"),
    [
        ("Can you parse the JSON export I uploaded?", Pillar.CONTENT),
        ("Which columns have outliers, and is there a trend by month?", Pillar.INSIGHTS),
        ("We need a checklist so every shift hands over the same way", Pillar.OPERATIONS),
        ("What return would a new CRM give us within two years?", Pillar.BUSINESS_OUTCOMES),
    ],
)
def test_pillar_messages_are_handed_off_with_a_reason(message: str, pillar: Pillar) -> None:
    result = route(message)

    assert result.kind is RouteKind.HANDOFF
    assert result.pillar is pillar
    assert result.agent_type is AgentType(f"{pillar.value}_liaison")
    assert pillar.value.replace("_", " ").title() in result.reason
    assert 0 < result.confidence <= 1


def test_off_topic_stays_with_the_guide() -> None:
    result = route("Who won the football match last night?")

    assert result.pillar is None
    assert result.kind is RouteKind.OFF_TOPIC
    assert result.agent_type is AgentType.GUIDE


def test_greetings_are_small_talk_for_the_guide() -> None:
    assert route("Hello there!").kind is RouteKind.SMALL_TALK


def test_questions_about_the_platform_stay_with_the_guide() -> None:
    result = route("How do I cancel a reply that is still being written?")

    assert result.kind is RouteKind.PLATFORM
    assert result.pillar is None
    assert result.matched == "Stopping a reply"


def test_a_follow_up_goes_where_the_previous_turn_went() -> None:
    after_sop = route("and how long does that take?", window("Draft an SOP for our refunds"))
    after_upload = route("and how long does that take?", window("How do I upload a CSV?"))

    assert after_sop.pillar is Pillar.OPERATIONS
    assert after_upload.pillar is Pillar.CONTENT
    assert "previous" in after_sop.reason


def test_a_follow_up_with_its_own_topic_switches_pillar() -> None:
    result = route("now give me the average of each column", window("How do I upload a CSV?"))

    assert result.pillar is Pillar.INSIGHTS


def test_routing_is_deterministic() -> None:
    message = "summarise the spreadsheet and tell me what stands out"

    assert len({route(message) for _ in range(5)}) == 1


def test_two_swapped_letters_in_a_short_word_are_read_as_meant() -> None:
    # "pasre" is too short for general one-edit correction ("game" is one edit from "name").
    assert route("can you pasre my csv").pillar is Pillar.CONTENT


def test_a_possessive_is_read_as_the_word_it_belongs_to() -> None:
    assert terms("the car's brakes") == terms("the car brakes")
