"""Business Outcomes orchestrator capability: a roadmap outline from the goals the user stated."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from agents.capabilities.types import CapabilityInputError

# A clause states a goal when it has a change verb or says "goal"/"target"/"want to".
_GOAL_CUE = re.compile(
    r"\b(goals?|objectives?|targets?|aims?|ambition|want(?:s)? to|need(?:s)? to|plan(?:s)? to|"
    r"would like to|hope to|going to|we will|increase|reduce|grow|cut|launch|improve|double|"
    r"triple|halve|expand|hire|reach|achieve|lower|raise|enter|migrate|automate|open|win|"
    r"become|decrease|boost|shorten|get to)\b",
    re.IGNORECASE,
)
# ... and the ones that only talk about roadmaps do not.
_NOT_A_GOAL = re.compile(
    r"\b(roadmap|outline|plan from|the goals we|draft|can you|could you|please)\b", re.IGNORECASE
)
# The whitespace before the number is only entered at its start ((?<!\s)): tried from every
# space of a long run, the scan was quadratic in the run.
_TARGET = re.compile(
    r"(?:from\s+\S+\s+)?(?:to|by)?(?:(?<!\s)\s+)?[$€£]?\d[\d,.]*\s*(?:%|percent|k\b|m\b|million|"
    r"customers|users|people|hours|days|weeks|clients|stores|markets|employees)?"
    r"|\b(?:double|triple|halve)\b",
    re.IGNORECASE,
)
_NEAR = r"this (?:month|quarter)|next month|in (?:\d|one|two|three) (?:weeks?|months?)|q1|h1"
_MID = (
    r"q[2-4]|h2|this year|end of (?:the )?year|year[- ]end|in \d+ months|"
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
)
_FAR = r"next year|in \d+ years|in (?:two|three|five) years|20\d\d|long[- ]term"
_DEADLINE = re.compile(
    rf"\b(?:by|before|within|until|in|for|over)?\s*(?:the\s+)?({_NEAR}|{_MID}|{_FAR})\b",
    re.IGNORECASE,
)


class Horizon(StrEnum):
    NOW = "Now (this quarter)"
    NEXT = "Next (this year)"
    LATER = "Later (next year and beyond)"


@dataclass(frozen=True)
class RoadmapItem:
    goal: str
    horizon: Horizon
    target: str | None
    deadline: str | None
    first_step: str


@dataclass(frozen=True)
class Roadmap:
    """A roadmap outline: the user's goals, grouped into Now / Next / Later."""

    items: list[RoadmapItem]
    # What a cap left out, in words for the reply.
    notes: list[str] = field(default_factory=list)

    def by_horizon(self) -> dict[Horizon, list[RoadmapItem]]:
        grouped: dict[Horizon, list[RoadmapItem]] = {horizon: [] for horizon in Horizon}
        for item in self.items:
            grouped[item.horizon].append(item)
        return grouped

    def render(self) -> str:
        """The outline as text: each horizon, its goals, their targets and first steps."""
        lines = [f"Roadmap outline from {len(self.items)} stated goal(s):"]
        for horizon, items in self.by_horizon().items():
            if not items:
                continue
            lines.append(f"{horizon}:")
            for item in items:
                facts = []
                facts.append(f"target {item.target}" if item.target else "no target stated yet")
                facts.append(f"by {item.deadline}" if item.deadline else "no date stated yet")
                lines.append(f"- {item.goal} ({', '.join(facts)}). First step: {item.first_step}")
        missing = [item.goal for item in self.items if not item.target or not item.deadline]
        if missing:
            lines.append(
                "To firm it up, give each goal a number and a date, e.g. "
                '"reduce churn from 8% to 5% by Q4".'
            )
        lines.extend(self.notes)
        return "\n".join(lines)


# Joined goals: "..., and ...", "... and ...". Entering a whitespace run only at its start
# keeps the scan linear in the run's length.
_AND_SPLIT = re.compile(r"(?:,|(?<!\s))\s+and\s+(?=\w+\s)|,\s+(?=(?:and\s+)?(?:to\s+)?[a-z]+\s)")
# Characters of the user's statements a roadmap reads, newest kept: goals live in a few turns.
MAX_STATEMENT_CHARS = 20_000


def _clauses(statement: str) -> list[str]:
    parts = []
    for sentence in re.split(r"(?<=[.!?;])\s+|\n+", statement):
        # "grow revenue 20% by Q4 and cut churn to 5%": two goals joined by "and".
        pieces = _AND_SPLIT.split(sentence)
        if all(_GOAL_CUE.search(piece) for piece in pieces):
            parts.extend(pieces)
        else:
            parts.append(sentence)
    return [part.strip(" .,;!?") for part in parts if part.strip(" .,;!?")]


def _horizon(deadline: str | None) -> Horizon:
    if deadline is None:
        return Horizon.NEXT
    lowered = deadline.lower()
    if re.fullmatch(_NEAR, lowered):
        return Horizon.NOW
    if re.fullmatch(_FAR, lowered):
        return Horizon.LATER
    return Horizon.NEXT


def _first_step(goal: str, target: str | None) -> str:
    if target:
        return "measure today's baseline and name an owner for the target."
    return "decide the metric that shows progress, then measure its baseline."


def latest_text(texts: Sequence[str], limit: int) -> list[str]:
    """The newest texts that fit in `limit` characters, oldest first; the oldest one may be cut
    to its end, where the latest words are."""
    kept: list[str] = []
    room = limit
    for text in reversed(texts):
        if room <= 0:
            break
        kept.append(text[-room:])
        room -= len(kept[-1])
    return kept[::-1]


def extract_goals(statements: Sequence[str]) -> list[str]:
    """The goal clauses in what the user said, oldest first, without repeats."""
    goals: list[str] = []
    seen: set[str] = set()
    for statement in statements:
        for clause in _clauses(statement):
            if not _GOAL_CUE.search(clause) or (
                _NOT_A_GOAL.search(clause) and not _TARGET.search(clause)
            ):
                continue
            goal = re.sub(
                r"^(?:(?:and|so|also|our|the|main|goals?|objectives?|is|are|to|we|want|"
                r"wants|need|needs|would like|hope|plan|i)\b[\s,:]*)+",
                "",
                clause,
                flags=re.IGNORECASE,
            ).strip()
            goal = goal[:1].upper() + goal[1:]
            if len(goal.split()) >= 2 and goal.lower() not in seen:
                seen.add(goal.lower())
                goals.append(goal)
    return goals


def outline_roadmap(statements: Sequence[str]) -> Roadmap:
    """A roadmap outline from the user's statements (the conversation's user turns).

    Raises CapabilityInputError, with an example, when no goal can be found.
    """
    read = latest_text(statements, MAX_STATEMENT_CHARS)
    goals = extract_goals(read)
    if not goals:
        raise CapabilityInputError(
            "I could not find any goals in our conversation yet. Tell me what you want to "
            'achieve, with a number and a date where you have them, e.g. "grow recurring '
            'revenue by 20% by Q4 and open a second office next year".'
        )
    items = []
    for goal in goals:
        target_match = next(
            (m for m in _TARGET.finditer(goal) if re.search(r"\d|double|triple|halve", m[0], re.I)),
            None,
        )
        deadline_match = _DEADLINE.search(goal)
        target = target_match.group(0).strip() if target_match else None
        if target:
            target = re.sub(r"^(?:to|by)\s+", "", target, flags=re.IGNORECASE).lower()
        if target and deadline_match and target in deadline_match.group(0):
            target = None  # "in 2025" is a date, not a target
        deadline = deadline_match.group(1) if deadline_match else None
        items.append(
            RoadmapItem(goal, _horizon(deadline), target, deadline, _first_step(goal, target))
        )
    order = list(Horizon)
    items.sort(key=lambda item: order.index(item.horizon))
    notes = []
    if sum(map(len, read)) < sum(map(len, statements)):
        notes.append(
            f"You wrote {sum(map(len, statements)):,} characters in all; I looked for goals in "
            f"the latest {MAX_STATEMENT_CHARS:,}."
        )
    return Roadmap(items, notes)
