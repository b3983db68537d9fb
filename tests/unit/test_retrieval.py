"""BM25 ranking, the text pipeline and the knowledge files."""

from __future__ import annotations

import pytest

from agents.catalog import AgentType
from agents.retrieval import BM25, KnowledgeIndex, load_knowledge, one_edit_apart, parse_knowledge
from agents.text import stem, terms


def test_the_document_with_the_query_term_ranks_first() -> None:
    bm25 = BM25([["chart", "revenue"], ["checklist", "sop"], ["upload", "file"]])

    scores = bm25.scores(["sop"])

    assert scores[1] > 0
    assert scores[0] == scores[2] == 0


def test_a_rare_term_outweighs_a_common_one() -> None:
    documents = [["data", "chart"], ["data", "outlier"], ["data", "upload"], ["data", "sop"]]
    bm25 = BM25(documents)

    scores = bm25.scores(["data", "outlier"])

    assert scores.index(max(scores)) == 1
    assert bm25.idf["outlier"] > bm25.idf["data"]


def test_a_short_document_beats_a_long_one_with_the_same_matches() -> None:
    bm25 = BM25([["roadmap", *["filler"] * 30], ["roadmap", "goal"]])

    long, short = bm25.scores(["roadmap"])

    assert short > long


def test_inflections_of_one_word_share_a_term() -> None:
    assert stem("uploading") == stem("uploaded") == stem("uploads") == stem("upload")
    assert stem("parsing") == stem("parse")
    assert stem("analysis") == stem("analyse") == stem("analyzing")
    assert stem("checklists") == stem("checklist")


def test_stopwords_filler_and_bare_numbers_are_not_terms() -> None:
    assert terms("Can you help me with 17 of the SOPs?") == ["sop"]


def test_one_edit_apart() -> None:
    assert one_edit_apart("uplaod", "upload")  # swapped neighbours
    assert one_edit_apart("chekclist", "checklist")
    assert one_edit_apart("roadmp", "roadmap")  # a missing letter
    assert not one_edit_apart("president", "present")
    assert not one_edit_apart("upload", "upload")


def test_a_typo_still_finds_the_passage() -> None:
    index = KnowledgeIndex([load_knowledge(AgentType.CONTENT_LIAISON)])

    found = index.search("how do I uplaod a fle", include_about=False)

    assert found[0].passage.title == "Uploading files"


def test_search_keeps_to_the_agents_asked_for() -> None:
    index = KnowledgeIndex(load_knowledge(agent) for agent in AgentType)

    found = index.search("anomalies outliers", agents=[AgentType.OPERATIONS_LIAISON])

    assert found == [] or all(s.passage.agent is AgentType.OPERATIONS_LIAISON for s in found)
    assert index.search("anomalies outliers")[0].passage.agent is AgentType.INSIGHTS_LIAISON


def test_a_query_with_no_known_term_finds_nothing() -> None:
    index = KnowledgeIndex(load_knowledge(agent) for agent in AgentType)

    assert index.search("lasagna recipe") == []


@pytest.mark.parametrize("agent", list(AgentType))
def test_every_agent_has_substantial_knowledge(agent: AgentType) -> None:
    knowledge = load_knowledge(agent)

    assert len(knowledge.passages) >= 8
    assert knowledge.about
    assert all(len(passage.text.split()) >= 40 for passage in knowledge.passages)


def test_a_knowledge_file_without_passages_is_refused() -> None:
    with pytest.raises(ValueError, match="passages"):
        parse_knowledge(AgentType.GUIDE, "# Guide\nJust an about paragraph.")
