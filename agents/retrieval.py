"""The knowledge base and its BM25 ranking.

Each agent's knowledge lives in `agents/knowledge/<agent>.md`: a `#` title, an "about"
paragraph, then one `##` section per passage. The sections are ranked with Okapi BM25, a
compact implementation below (see docs/agents.md for why not a library).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agents.catalog import AgentType
from agents.text import terms

KNOWLEDGE_DIR = Path(__file__).parent / "knowledge"

# The knowledge file of each agent; liaisons are named after their pillar.
KNOWLEDGE_FILES: dict[AgentType, str] = {
    AgentType.GUIDE: "guide.md",
    AgentType.CONTENT_LIAISON: "content.md",
    AgentType.INSIGHTS_LIAISON: "insights.md",
    AgentType.OPERATIONS_LIAISON: "operations.md",
    AgentType.BUSINESS_OUTCOMES_LIAISON: "business_outcomes.md",
}

# Unknown query terms at least this long are matched to a known term one edit away; shorter ones
# (down to MIN_SWAP_LENGTH) only when two neighbouring letters are swapped. Terms are stems, so
# "pasre" arrives as the four letters "pasr".
MIN_EDIT_LENGTH = 6
MIN_SWAP_LENGTH = 4


@dataclass(frozen=True)
class Passage:
    """One `##` section of an agent's knowledge."""

    agent: AgentType
    title: str
    text: str
    # The knowledge's about paragraph: evidence for routing, too general to quote as an answer.
    about: bool = False


@dataclass(frozen=True)
class Knowledge:
    """An agent's knowledge: what it is about, and its passages."""

    agent: AgentType
    title: str
    about: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class ScoredPassage:
    passage: Passage
    score: float


class BM25:
    """Okapi BM25 over pre-tokenised documents, with the non-negative IDF of Lucene."""

    def __init__(
        self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75
    ) -> None:
        self.k1 = k1
        self._b = b
        self._frequencies = [Counter(document) for document in documents]
        self._lengths = [len(document) for document in documents]
        self._average_length = sum(self._lengths) / max(len(documents), 1) or 1.0
        document_frequency = Counter(term for document in documents for term in set(document))
        total = len(documents)
        self.unseen_idf = math.log(1 + (total + 0.5) / 0.5)
        self.idf = {
            term: math.log(1 + (total - count + 0.5) / (count + 0.5))
            for term, count in document_frequency.items()
        }

    def scores(self, query: Iterable[str]) -> list[float]:
        """The score of every document for the query, in document order."""
        query_counts = Counter(query)
        results = []
        for frequencies, length in zip(self._frequencies, self._lengths, strict=True):
            norm = self.k1 * (1 - self._b + self._b * length / self._average_length)
            score = 0.0
            for term, weight in query_counts.items():
                tf = frequencies.get(term)
                if tf:
                    score += weight * self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
            results.append(score)
        return results


def one_edit_apart(a: str, b: str) -> bool:
    """True when one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    shorter, longer = sorted((a, b), key=len)
    i = next(
        (i for i, (x, y) in enumerate(zip(shorter, longer, strict=False)) if x != y), len(shorter)
    )
    return shorter[i:] == longer[i + 1 :]


def _deletions(word: str) -> set[str]:
    """The word and every word one deleted letter away from it."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def neighbours_swapped(a: str, b: str) -> bool:
    """True when swapping two neighbouring letters turns a into b ("pasre" -> "parse")."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def parse_knowledge(agent: AgentType, markdown: str) -> Knowledge:
    """Parse one knowledge file: `# Title`, an about paragraph, `## Passage` sections."""
    title = ""
    about: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.startswith("# "):
            title = line[2:].strip()
        elif sections:
            sections[-1][1].append(line)
        else:
            about.append(line)
    passages = tuple(
        Passage(agent, heading, " ".join(" ".join(body).split())) for heading, body in sections
    )
    if not title or not passages:
        raise ValueError(f"knowledge for {agent} needs a '# ' title and '## ' passages")
    return Knowledge(agent, title, " ".join(" ".join(about).split()), passages)


class KnowledgeIndex:
    """BM25 over the passages of one or more agents, with typo-tolerant queries."""

    def __init__(self, knowledge: Iterable[Knowledge]) -> None:
        # The about paragraph is the densest description of an agent: index it as a passage.
        self.passages = [
            passage
            for item in knowledge
            for passage in (Passage(item.agent, item.title, item.about, True), *item.passages)
        ]
        # The title says what a passage is about: count its terms twice.
        self._bm25 = BM25([terms(f"{p.title} {p.title} {p.text}") for p in self.passages])
        self._vocabulary = sorted(self._bm25.idf)
        # Every word one deletion away from a known word, to the known words it comes from: the
        # candidates for a correction are found by lookup instead of a scan of the vocabulary
        # per unknown term (1,000 unknown words took a second).
        self._by_deletion: dict[str, list[int]] = {}
        for position, word in enumerate(self._vocabulary):
            for key in _deletions(word):
                self._by_deletion.setdefault(key, []).append(position)

    @property
    def idf(self) -> dict[str, float]:
        return self._bm25.idf

    def attainable_score(self, query_terms: Sequence[str]) -> float:
        """An upper bound of any passage's score for the query: every term, saturated.

        Terms the index has never seen count at the highest IDF, so a message full of unknown
        words has a high bar and a low share of it.
        """
        return sum(self._bm25.idf.get(term, self._bm25.unseen_idf) for term in query_terms) * (
            self._bm25.k1 + 1
        )

    def normalise(self, query_terms: Iterable[str]) -> list[str]:
        """Map terms the index has never seen to a close spelling it has (uplaod -> upload)."""
        known = []
        for term in query_terms:
            if term in self._bm25.idf or len(term) < MIN_SWAP_LENGTH:
                known.append(term)
                continue
            # One slip of the keyboard, no more: "president" must not become "present". A short
            # word has too many neighbours one edit away ("game" -> "name"), so only two swapped
            # letters, the commonest slip in fast typing, are corrected there ("pasre" -> "parse").
            close = one_edit_apart if len(term) >= MIN_EDIT_LENGTH else neighbours_swapped
            # Any word one edit (or swap) away shares a deletion with the term; the first such
            # word in vocabulary order wins, as a scan of the vocabulary would choose.
            candidates = sorted(
                {
                    position
                    for key in _deletions(term)
                    for position in self._by_deletion.get(key, ())
                }
            )
            nearby = (self._vocabulary[position] for position in candidates)
            known.append(next((word for word in nearby if close(term, word)), term))
        return known

    def search(
        self,
        query: str | Sequence[str],
        limit: int = 3,
        agents: Iterable[AgentType] | None = None,
        include_about: bool = True,
    ) -> list[ScoredPassage]:
        """The best passages for the query, best first; passages that share no term are left out."""
        query_terms = self.normalise(terms(query) if isinstance(query, str) else query)
        allowed = set(agents) if agents is not None else None
        ranked = [
            ScoredPassage(passage, score)
            for passage, score in zip(self.passages, self._bm25.scores(query_terms), strict=True)
            if score > 0
            and (allowed is None or passage.agent in allowed)
            and (include_about or not passage.about)
        ]
        # Ties keep the knowledge base's order, so results are deterministic.
        ranked.sort(key=lambda item: -item.score)
        return ranked[:limit]


@cache
def load_knowledge(agent: AgentType) -> Knowledge:
    """The knowledge of one agent, read once from the repository's data files."""
    path = KNOWLEDGE_DIR / KNOWLEDGE_FILES[agent]
    return parse_knowledge(agent, path.read_text(encoding="utf-8"))


@cache
def shared_index() -> KnowledgeIndex:
    """One index over every agent's knowledge: IDF is computed across the whole platform."""
    return KnowledgeIndex(load_knowledge(agent) for agent in AgentType)
