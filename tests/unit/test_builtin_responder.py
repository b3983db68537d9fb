"""The built-in responder: answers from knowledge, in the agent's voice, word by word."""

from __future__ import annotations

from agents.builtin import BuiltInResponder, compose_reply, word_deltas
from agents.catalog import AgentType
from agents.replies import CapabilityOutcome, ReplyContext, WindowMessage


def ask(
    agent: AgentType,
    message: str,
    *earlier: str,
    capability: CapabilityOutcome | None = None,
) -> str:
    window = []
    for turn in earlier:
        window += [WindowMessage("user", turn), WindowMessage("assistant", "Sure.")]
    return compose_reply(ReplyContext("s", agent, message, window, capability))


async def test_the_stream_is_word_sized_deltas_of_the_reply() -> None:
    context = ReplyContext("s", AgentType.CONTENT_LIAISON, "What file formats do you support?")

    deltas = [delta async for delta in BuiltInResponder().stream_reply(context)]

    assert "".join(deltas) == compose_reply(context)
    assert len(deltas) > 20
    assert all(len(delta.split()) == 1 for delta in deltas)


def test_word_deltas_keep_every_character() -> None:
    text = "Two  spaces,\nnew line\tand tab."

    assert "".join(word_deltas(text)) == text


def test_the_same_question_gets_the_same_answer() -> None:
    first = ask(AgentType.INSIGHTS_LIAISON, "How do you find outliers?")

    assert ask(AgentType.INSIGHTS_LIAISON, "How do you find outliers?") == first


def test_a_liaison_answers_from_its_knowledge() -> None:
    reply = ask(AgentType.CONTENT_LIAISON, "What file formats do you support?")

    assert ".csv" in reply
    assert "JSON" in reply
    # ... and offers what it can do next.
    assert "ask me to parse it" in reply


def test_a_follow_up_is_answered_against_the_previous_turn() -> None:
    after_sop = ask(
        AgentType.OPERATIONS_LIAISON, "and how long does that take?", "How do I write an SOP?"
    )
    after_upload = ask(
        AgentType.CONTENT_LIAISON, "and how long does that take?", "How do I upload a file?"
    )

    assert "A first draft takes seconds" in after_sop
    assert "Storing a file takes a moment" in after_upload


def test_a_follow_up_question_narrows_the_previous_topic() -> None:
    reply = ask(AgentType.CONTENT_LIAISON, "what about pdf?", "What file formats do you support?")

    assert "PDF" in reply
    assert "cannot be read yet" in reply


def test_the_guide_greets_with_a_tour_of_the_pillars() -> None:
    reply = ask(AgentType.GUIDE, "hi")

    for pillar in ("Content", "Insights", "Operations", "Business Outcomes"):
        assert f"{pillar}:" in reply


def test_the_guide_declines_off_topic_and_says_what_it_can_do() -> None:
    reply = ask(AgentType.GUIDE, "What's the capital of Australia?")

    assert "outside what this platform works on" in reply
    assert "Insights:" in reply
    assert "Canberra" not in reply


def test_the_guide_answers_platform_questions() -> None:
    reply = ask(AgentType.GUIDE, "how do I stop a reply?")

    assert "cancel" in reply


def test_the_guide_points_pillar_questions_to_the_liaison() -> None:
    reply = ask(AgentType.GUIDE, "how do I find anomalies in my revenue numbers?")

    assert "the Insights liaison" in reply
    assert "interquartile range" in reply


def test_a_liaison_says_when_a_question_is_outside_its_pillar() -> None:
    reply = ask(AgentType.OPERATIONS_LIAISON, "recommend a lasagna recipe")

    assert "outside what I, the Operations liaison, work on" in reply


def test_a_capability_result_is_cited_first() -> None:
    outcome = CapabilityOutcome(
        "summarize_csv", True, "Summary of sales.csv (6 rows): units: mean 12."
    )

    reply = ask(AgentType.INSIGHTS_LIAISON, "summarise sales.csv", capability=outcome)

    assert reply.startswith("Summary of sales.csv (6 rows): units: mean 12.")


def test_a_failed_capability_explains_and_still_helps() -> None:
    outcome = CapabilityOutcome("parse_file", False, "notes.json is not valid JSON: line 3.")

    reply = ask(AgentType.CONTENT_LIAISON, "parse notes.json", capability=outcome)

    assert reply.startswith("notes.json is not valid JSON: line 3.")
    assert "JSON" in reply.split("\n\n", 1)[1]
