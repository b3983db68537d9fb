"""The built-in, offline, deterministic responder: answers composed from the knowledge base.

Each agent answers from its own knowledge (agents/knowledge/): the best passages for the
message are ranked with BM25 and the most relevant sentences of them make the answer, in the
agent's voice. A follow-up ("and how long does that take?") is read together with the previous
user turn. When the liaison ran a capability, the answer cites its result first.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from agents.catalog import AgentType, Pillar, liaison_for
from agents.replies import CapabilityOutcome, ReplyContext, WindowMessage
from agents.retrieval import KnowledgeIndex, Passage, load_knowledge, shared_index
from agents.router import RouteKind, looks_like_follow_up, previous_user_turn, route
from agents.text import sentences, terms, words

# A liaison's best passage scoring below this does not answer the message.
RELEVANT_FROM = 2.0
# A second passage this close to the best one is mentioned as related.
RELATED_FROM = 0.6
MAX_SENTENCES = 3

_NAMES: dict[AgentType, str] = {
    AgentType.GUIDE: "the Guide",
    AgentType.CONTENT_LIAISON: "the Content liaison",
    AgentType.INSIGHTS_LIAISON: "the Insights liaison",
    AgentType.OPERATIONS_LIAISON: "the Operations liaison",
    AgentType.BUSINESS_OUTCOMES_LIAISON: "the Business Outcomes liaison",
}
# What each agent offers to do next: its capability, in one sentence.
_NEXT_STEP: dict[AgentType, str] = {
    AgentType.GUIDE: ("Tell me what you want to achieve and I will bring in the right liaison."),
    AgentType.CONTENT_LIAISON: (
        "Upload a file and ask me to parse it: I will report its format, size, columns or keys "
        "and a sample."
    ),
    AgentType.INSIGHTS_LIAISON: (
        "Upload a CSV and ask me for a summary: I will compute the statistics per column and "
        "flag outliers."
    ),
    AgentType.OPERATIONS_LIAISON: (
        "Describe your process step by step and ask me for an SOP: I will draft it with a "
        "checklist."
    ),
    AgentType.BUSINESS_OUTCOMES_LIAISON: (
        "Tell me your goals, with numbers and dates, and ask me for a roadmap: I will outline "
        "it in Now, Next and Later."
    ),
}
# After a capability ran, where the result can go next.
_AFTER_CAPABILITY: dict[str, str] = {
    "parse_file": "If it is a CSV, the Insights liaison can compute its summary statistics.",
    "summarize_csv": (
        "Ask me about any column, or take the figures to Business Outcomes to set targets."
    ),
    "build_sop": "Tell me what to change, or add owners for each step and I will redraft it.",
    "outline_roadmap": (
        "Add a number and a date to each goal, or ask me for the ROI of one of them."
    ),
}
_WORD = re.compile(r"\S+\s*")
# What kind of answer a question wants, when its words alone do not say: "how long does that
# take?" wants durations, "who should own it?" wants roles. Plain English, no domain terms.
_QUESTION_FOCUS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\bhow (?:long|quickly|fast|soon)\b|\bhow much time\b", re.IGNORECASE),
        "takes seconds minutes hours days weeks months moment time",
    ),
    (re.compile(r"\bwho\b", re.IGNORECASE), "owner role responsible accountable team"),
    (re.compile(r"\bhow much\b|\bcost\b|\bprice\b", re.IGNORECASE), "cost price gain"),
    (re.compile(r"\bwhy\b", re.IGNORECASE), "because reason so"),
]


def word_deltas(text: str) -> list[str]:
    """Split text into word-sized deltas whose concatenation is the text."""
    return _WORD.findall(text) or [text]


@dataclass(frozen=True)
class _Query:
    own: list[str]
    carried: list[str]  # terms of the previous user turn, for a follow-up
    previous: str | None

    @property
    def terms(self) -> list[str]:
        # The new message counts double: "what about pdf?" after "what formats?" is about PDF.
        return [*self.own, *self.own, *self.carried]


def _pillar_title(pillar: Pillar) -> str:
    return load_knowledge(liaison_for(pillar)).title


class KnowledgeResponder:
    """Composes replies from the knowledge base; `BuiltInResponder` streams them."""

    def __init__(self, index: KnowledgeIndex | None = None) -> None:
        self._index = index or shared_index()

    def compose(self, context: ReplyContext) -> str:
        """The whole reply to one message. Deterministic: same context, same text."""
        if context.capability is not None:
            return self._cite(context.author, context.capability, context)
        if context.author is AgentType.GUIDE:
            return self._guide(context)
        return self._liaison(context.author, context.message, context.window)

    # -- the guide -------------------------------------------------------------------------

    def _guide(self, context: ReplyContext) -> str:
        decision = route(context.message, context.window, self._index)
        if decision.kind is RouteKind.SMALL_TALK:
            if {"thanks", "thank", "thx", "cheers"} & set(words(context.message)):
                return "You're welcome. " + self._tour("Anything else? ")
            return self._tour("Hello, I'm the Guide. ")
        if decision.kind is RouteKind.OFF_TOPIC:
            return (
                "That is outside what this platform works on, so I can't help with it here. "
                + self._tour("")
            )
        if decision.pillar is not None:
            # The Conductor normally hands this off; answering it here still helps.
            liaison = liaison_for(decision.pillar)
            answer = self._answer(liaison, context.message, context.window)
            name = _NAMES[liaison]
            return (
                f"That is one for {name}, who can also act on it. {answer} "
                f"Switch to {_pillar_title(decision.pillar)} to continue with {name}."
            )
        answer = self._answer(AgentType.GUIDE, context.message, context.window)
        return f"{answer} {_NEXT_STEP[AgentType.GUIDE]}"

    def _tour(self, opening: str) -> str:
        pillars = "; ".join(
            f"{load_knowledge(liaison_for(pillar)).title}: {_short_about(pillar)}"
            for pillar in Pillar
        )
        return (
            f"{opening}The platform can help you with four things. {pillars}. "
            f"{_NEXT_STEP[AgentType.GUIDE]}"
        )

    # -- a liaison -------------------------------------------------------------------------

    def _liaison(self, agent: AgentType, message: str, window: Sequence[WindowMessage]) -> str:
        answer = self._answer(agent, message, window)
        return f"{answer} {_NEXT_STEP[agent]}"

    def _cite(self, agent: AgentType, outcome: CapabilityOutcome, context: ReplyContext) -> str:
        if outcome.ok:
            follow = _AFTER_CAPABILITY.get(outcome.capability, "")
            return f"{outcome.summary}\n\n{follow}".rstrip()
        # The capability could not run: say why, then still answer from knowledge.
        fallback = self._answer(agent, context.message, context.window)
        return f"{outcome.summary}\n\n{fallback}"

    # -- composing from knowledge ------------------------------------------------------------

    def _query(self, message: str, window: Sequence[WindowMessage], agent: AgentType) -> _Query:
        own = terms(message)
        for pattern, focus in _QUESTION_FOCUS:
            if pattern.search(message):
                own.extend(terms(focus))
        previous = previous_user_turn(window)
        if previous is None:
            return _Query(own, [], None)
        best = self._index.search(own, limit=1, agents=[agent], include_about=False) if own else []
        weak = not best or best[0].score < 2 * RELEVANT_FROM
        if looks_like_follow_up(message) or weak:
            return _Query(own, terms(previous), previous)
        return _Query(own, [], None)

    def _answer(self, agent: AgentType, message: str, window: Sequence[WindowMessage]) -> str:
        query = self._query(message, window, agent)
        found = (
            self._index.search(query.terms, limit=2, agents=[agent], include_about=False)
            if query.terms
            else []
        )
        if not found or found[0].score < RELEVANT_FROM:
            return self._outside(agent)
        best = found[0]
        text = " ".join(self._sentences(best.passage, query))
        lead = f"Still on {best.passage.title.lower()}: " if query.carried else ""
        related = ""
        if len(found) > 1 and found[1].score >= RELATED_FROM * best.score:
            extra = self._sentences(found[1].passage, query, limit=1)
            related = f" Related, on {found[1].passage.title.lower()}: {extra[0]}"
        return f"{lead}{text}{related}"

    def _sentences(self, passage: Passage, query: _Query, limit: int = MAX_SENTENCES) -> list[str]:
        """The passage's sentences that best answer the query, in the passage's order."""
        own, carried = set(query.own), set(query.carried)
        idf = self._index.idf
        candidates = sentences(passage.text)
        scores = []
        for position, sentence in enumerate(candidates):
            present = set(self._index.normalise(terms(sentence)))
            score = sum(idf.get(t, 0.0) * 2 for t in present & own)
            score += sum(idf.get(t, 0.0) for t in present & (carried - own))
            scores.append((score, -position))
        ranked = sorted(range(len(candidates)), key=lambda i: scores[i], reverse=True)
        chosen = [i for i in ranked[:limit] if scores[i][0] > 0] or [0]
        if len(chosen) == 1 and limit > 1 and chosen[0] + 1 < len(candidates):
            chosen.append(chosen[0] + 1)  # one matching sentence reads better with the next
        return [candidates[i] for i in sorted(chosen)]

    def _outside(self, agent: AgentType) -> str:
        knowledge = load_knowledge(agent)
        topics = ", ".join(passage.title.lower() for passage in knowledge.passages[:6])
        if agent is AgentType.GUIDE:
            return f"I can tell you about {topics}."
        return (
            f"That is outside what I, {_NAMES[agent]}, work on; I can help with {topics}. "
            "For anything else, the Guide will point you to the right place."
        )


def _short_about(pillar: Pillar) -> str:
    about = load_knowledge(liaison_for(pillar)).about
    # "The Content pillar takes your files in: uploading ..." -> the part after the colon.
    head, _, tail = about.partition(": ")
    return (tail or head).rstrip(".")


def compose_reply(context: ReplyContext) -> str:
    """The built-in reply to one message, whole."""
    return KnowledgeResponder().compose(context)


class BuiltInResponder:
    """Answers every agent type deterministically from the knowledge base, word by word."""

    def __init__(
        self, index: KnowledgeIndex | None = None, delta_delay: timedelta = timedelta(0)
    ) -> None:
        self._responder = KnowledgeResponder(index)
        self._delay_seconds = delta_delay.total_seconds()

    async def stream_reply(self, context: ReplyContext) -> AsyncIterator[str]:
        for delta in word_deltas(self._responder.compose(context)):
            if self._delay_seconds:
                await asyncio.sleep(self._delay_seconds)
            yield delta
