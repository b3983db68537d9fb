"""Operations orchestrator capability: an SOP and a checklist from a described process."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.capabilities.types import CapabilityInputError

# Numbered or bulleted items, on their own lines or run together: "1. back up 2. deploy".
_NUMBERED = re.compile(r"(?:^|\s)(?:\d{1,2}[.)]|[-*•])\s+")
# Words that mark the next step in prose. A whitespace run is only entered at its start
# ((?<!\s)): tried from every space of a long run, the scan was quadratic in the run.
_SEQUENCE = re.compile(
    r"(?:[.;]\s*|,\s*|(?<!\s)\s+)(?:and\s+)?(?:then|after\s+that|afterwards|next|finally|"
    r"lastly|once\s+(?:that\s+is|it's|it\s+is)\s+done)\b[,:]?\s*"
    r"|(?<!\s)\s*(?:->|→|=>)\s*"
    r"|;\s*",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|step\s+\d+|to\s+start|start\s+by|"
    r"begin\s+by|after\s+that|afterwards|next|finally|lastly|and|then|so|we|i|you|they)"
    r"\b[,:]?\s*)+",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"\b(?:sop|procedure|checklist|process|workflow|runbook|instructions?)\s+(?:for|to|on)\s+"
    r"(?P<title>[^.,;:!?\n]{3,60})",
    re.IGNORECASE,
)
_ROLE = re.compile(
    r"\b((?:[a-z]+\s+)?(?:team|manager|lead|department|officer|agent|technician|engineer|"
    r"analyst|clerk|accountant|approver|supervisor|owner|customer|recruiter|administrator))s?\b",
    re.IGNORECASE,
)
_ROLE_NOISE = frozenset({"the", "a", "an", "our", "each", "every", "new", "same", "this", "that"})
_REVIEW_MONTHS = 12
# Characters of a described process an SOP is drafted from: an SOP is a page, not a book.
MAX_PROCESS_CHARS = 20_000


@dataclass(frozen=True)
class Sop:
    """A standard operating procedure drafted from a described process."""

    title: str
    steps: list[str]
    roles: list[str] = field(default_factory=list)
    # What a cap left out, in words for the reply.
    notes: list[str] = field(default_factory=list)

    @property
    def checklist(self) -> list[str]:
        return [f"[ ] {step}" for step in self.steps]

    def render(self) -> str:
        """The SOP as text: purpose, scope, roles, numbered procedure, checklist, review."""
        lines = [
            f"SOP: {self.title}",
            f"Purpose: one agreed way to handle {self.title.lower()}, so anyone on the team "
            "gets the same result.",
            "Scope: applies every time this process runs, whoever runs it.",
            "Roles: "
            + (", ".join(self.roles) if self.roles else "name an owner for each step")
            + ".",
            "Procedure:",
            *(f"{number}. {step}" for number, step in enumerate(self.steps, 1)),
            "Checklist:",
            *self.checklist,
            "Records: keep the completed checklist with the date and who did it.",
            f"Review: every {_REVIEW_MONTHS} months, or whenever the process changes.",
            *self.notes,
        ]
        return "\n".join(lines)


def _clean(step: str) -> str:
    step = _LEADING.sub("", step.strip(" \t\n,.;:-")).strip(" ,.;:")
    return step[:1].upper() + step[1:] if step else ""


def split_steps(description: str) -> list[str]:
    """The steps of a described process, in order: numbered lists, bullets or prose."""
    text = description.strip()
    candidates: list[str]
    if len(_NUMBERED.findall(text)) >= 2:
        candidates = _NUMBERED.split(text)[1:]
    elif len(lines := [line for line in text.splitlines() if line.strip()]) >= 3:
        candidates = lines
    else:
        # "Our order handling goes: receive order, ..." - the steps follow the colon.
        intro, colon, rest = text.partition(":")
        body = rest if colon and len(intro) < 120 else text
        # Requests and questions around the description are not steps.
        sentences = [
            sentence
            for sentence in re.split(r"(?<=[.!?])\s+", body)
            if sentence.strip()
            and not sentence.rstrip().endswith("?")
            and not _is_request(sentence)
        ]
        body = " ".join(sentences)
        candidates = _SEQUENCE.split(body)
        if len(candidates) < 2 and body.count(",") >= 2:
            candidates = re.split(r",\s*(?:and\s+)?", body)
        if len(candidates) < 2:
            candidates = re.split(r"(?<=[.!?])\s+", body)
    steps = [_clean(candidate) for candidate in candidates]
    return [step for step in steps if len(step) >= 3 and not _is_request(step)]


def _is_request(step: str) -> bool:
    """The user's request to us ("can you turn that into an SOP"), not a step of the process."""
    lowered = step.lower()
    return bool(
        re.match(r"^(can|could|would|will|please|pls|help|turn|make|create|write|draft)\b", lowered)
        and re.search(r"\b(sop|procedure|checklist|process|steps?)\b", lowered)
    )


def _title(request: str, description: str) -> str:
    for text in (request, description):
        if match := _TITLE.search(text):
            title = re.sub(r"\s+", " ", match.group("title")).strip()
            title = re.sub(r"^(?:the|our|my|a|an)\s+", "", title, flags=re.IGNORECASE)
            return title[:1].upper() + title[1:]
    return "Process"


def _roles(description: str) -> list[str]:
    roles: list[str] = []
    for match in _ROLE.finditer(description):
        words = [word for word in match.group(1).lower().split() if word not in _ROLE_NOISE]
        role = " ".join(words)
        if role and role not in roles:
            roles.append(role)
    return roles


def build_sop(description: str, request: str = "") -> Sop:
    """Draft an SOP from a described process; `request` is the message that asked for it.

    Raises CapabilityInputError, with an example of what to write, when fewer than two steps
    can be found.
    """
    notes = []
    if len(description) > MAX_PROCESS_CHARS:
        notes.append(
            f"Your description has {len(description):,} characters; I drafted the SOP from "
            f"the first {MAX_PROCESS_CHARS:,}."
        )
        description = description[:MAX_PROCESS_CHARS]
    request = request[:MAX_PROCESS_CHARS]
    steps = split_steps(description)
    title = _title(request, description)
    if len(steps) < 2:
        subject = title.lower() if title != "Process" else "the process"
        raise CapabilityInputError(
            f"To draft the SOP I need the steps of {subject}. Describe them in order, for "
            'example: "First we log the request, then the manager approves it, finally '
            'finance pays it", or as a numbered list.'
        )
    return Sop(title, steps, _roles(description), notes)
