"""The Guide's intent analysis: answer as the guide, or hand off to a pillar's liaison.

The signals are the knowledge base itself. A message is scored with BM25 against every agent's
passages; an agent's evidence is its best passage plus half its second best, divided by the
best score the message's terms could reach, so one-word and twenty-word messages are judged on
the same scale. The agent with the most evidence wins, and too little evidence anywhere means
the message is small talk or off-topic, which the guide answers. There are no phrase lists:
what the router knows about a pillar is what that pillar's knowledge says (docs/agents.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from agents.catalog import AgentType, Pillar, liaison_for
from agents.replies import WindowMessage
from agents.retrieval import KnowledgeIndex, Passage, shared_index
from agents.text import terms, words

# Tuned on the dev split of tests/data/routing.jsonl only; see docs/agents.md.
# Below this share of the attainable score, nothing in the message is the platform's business.
OFF_TOPIC_BELOW = 0.08
# ... and below this raw BM25 score, a match is one stray word.
STRAY_MATCH_BELOW = 2.5
# The second-best passage of an agent counts this much: breadth of knowledge is evidence too.
SECOND_PASSAGE_WEIGHT = 0.5
# A message with less evidence than this has no topic of its own: it continues the last turn.
FOLLOW_UP_BELOW = 0.3
# When a message's own evidence sits between the two candidates, pillars within this share of
# the leader are offered as alternatives, best first.
ALTERNATIVE_RATIO = 0.9
# Characters of a message (and of the turn it follows) that routing reads: a topic shows in
# the opening words, and the cost of routing then stays the same for any message length.
MAX_ROUTED_CHARS = 2_000

# First words that mark a follow-up: "and how long does that take?", "same thing but ...".
_FOLLOW_UP_OPENERS = frozenset({"and", "also", "then", "so", "ok", "okay", "now", "but", "same"})
_ANAPHORA = frozenset({"it", "that", "this", "those", "these", "them", "they", "same"})
_SMALL_TALK = frozenset(
    {"hi", "hello", "hey", "thanks", "thank", "thx", "cheers", "morning", "ok", "okay", "bye"}
)


class RouteKind(StrEnum):
    """Why the router chose its target."""

    HANDOFF = "handoff"  # the message belongs to a pillar
    PLATFORM = "platform"  # a question about the platform itself: the guide knows
    SMALL_TALK = "small_talk"  # greetings, thanks, "what can you do": the guide answers
    OFF_TOPIC = "off_topic"  # nothing the platform does: the guide says what it can do


@dataclass(frozen=True)
class RouteResult:
    """Where a message goes, how sure the router is, and why, in words a user can read."""

    pillar: Pillar | None
    kind: RouteKind
    # 0..1: the winner's share of the evidence of all agents.
    confidence: float
    reason: str
    # Other pillars whose knowledge nearly fits as well, best first: worth offering the user.
    alternatives: tuple[Pillar, ...] = field(default_factory=tuple)
    # Title of the passage that decided; the liaison's answer starts there.
    matched: str | None = None

    @property
    def agent_type(self) -> AgentType:
        """The agent that answers: the pillar's liaison, or the guide."""
        return liaison_for(self.pillar) if self.pillar is not None else AgentType.GUIDE

    @property
    def is_handoff(self) -> bool:
        return self.pillar is not None


@dataclass(frozen=True)
class Evidence:
    agent: AgentType
    score: float  # normalised evidence, comparable across messages
    raw: float  # the best passage's BM25 score
    passage: Passage


def weigh(index: KnowledgeIndex, query_terms: Sequence[str]) -> list[Evidence]:
    """Every agent's evidence for the query, strongest first."""
    query_terms = index.normalise(query_terms)
    attainable = index.attainable_score(query_terms)
    if not query_terms or attainable <= 0:
        return []
    by_agent: dict[AgentType, list[tuple[float, Passage]]] = {}
    for scored in index.search(query_terms, limit=len(index.passages)):
        by_agent.setdefault(scored.passage.agent, []).append((scored.score, scored.passage))
    evidence = []
    for agent, ranked in by_agent.items():
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        score = (ranked[0][0] + SECOND_PASSAGE_WEIGHT * second) / attainable
        evidence.append(Evidence(agent, score, ranked[0][0], ranked[0][1]))
    # Ties go to the agent listed first in the catalog, so routing is deterministic.
    order = list(AgentType)
    evidence.sort(key=lambda item: (-item.score, order.index(item.agent)))
    return evidence


def previous_user_turn(window: Sequence[WindowMessage]) -> str | None:
    """The last thing the user said before this message, if anything."""
    for message in reversed(window):
        if message.role == "user":
            return message.content
    return None


def looks_like_follow_up(message: str) -> bool:
    """Short messages that open with "and"/"then"/... or point back with "it"/"that"."""
    tokens = words(message)
    if not tokens or len(tokens) > 12:
        return False
    return tokens[0] in _FOLLOW_UP_OPENERS or bool(_ANAPHORA.intersection(tokens))


def _name(agent: AgentType) -> str:
    pillar = agent.pillar
    return "the guide" if pillar is None else pillar.value.replace("_", " ").title()


def route(
    message: str, window: Sequence[WindowMessage] = (), index: KnowledgeIndex | None = None
) -> RouteResult:
    """Decide who answers `message`, given the earlier messages of the conversation.

    Pure and deterministic: the same message and window always give the same result.
    """
    index = index or shared_index()
    cut = len(message) > MAX_ROUTED_CHARS
    message = message[:MAX_ROUTED_CHARS]
    own_terms = terms(message)
    evidence = weigh(index, own_terms)
    own_score = evidence[0].score if evidence else 0.0
    basis = "your message"
    previous = previous_user_turn(window)
    if previous is not None and (
        own_score < FOLLOW_UP_BELOW
        or (looks_like_follow_up(message) and own_score < 2 * FOLLOW_UP_BELOW)
    ):
        # A follow-up is read with the turn it follows ("why?", "and how long does that take?"),
        # but the new message counts double, so "now give me the averages" after a question
        # about uploading goes to Insights.
        combined = weigh(index, [*own_terms, *own_terms, *terms(previous[:MAX_ROUTED_CHARS])])
        if combined and combined[0].score > own_score:
            evidence = combined
            basis = "your message, read with the previous one"

    if not evidence or evidence[0].score < OFF_TOPIC_BELOW or evidence[0].raw < STRAY_MATCH_BELOW:
        if not own_terms or set(words(message)) & _SMALL_TALK:
            return RouteResult(None, RouteKind.SMALL_TALK, 1.0, "a greeting or a general question")
        return RouteResult(
            None,
            RouteKind.OFF_TOPIC,
            1.0,
            "nothing in your message matches what the platform's agents work on",
        )

    total = sum(item.score for item in evidence)
    leader = evidence[0]
    confidence = round(leader.score / total, 2)
    if leader.agent is AgentType.GUIDE:
        return RouteResult(
            None,
            RouteKind.PLATFORM,
            confidence,
            f'a question about the platform itself ("{leader.passage.title}")',
            matched=leader.passage.title,
        )
    pillar = leader.agent.pillar
    assert pillar is not None
    alternatives = tuple(
        item.agent.pillar
        for item in evidence[1:]
        if item.agent.pillar is not None and item.score >= ALTERNATIVE_RATIO * leader.score
    )
    if cut:
        basis += f" (its first {MAX_ROUTED_CHARS:,} characters)"
    return RouteResult(
        pillar,
        RouteKind.HANDOFF,
        confidence,
        f"{basis} is about {_name(leader.agent)}: {leader.passage.title.lower()}",
        alternatives=alternatives,
        matched=leader.passage.title,
    )
