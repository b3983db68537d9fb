"""When a liaison asks the person before it runs a capability, and what it asks.

Capabilities that are slow or costly, or that keep or change something, ask first (an
approval: approve, edit the inputs, or reject); quick read-only answers never do. Operators
change the policy per capability (the `capability_asks_first` setting). A capability that
lacks its input asks for it instead (a clarifying question: a choice, a short text or a file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from agents.capabilities.business_outcomes import outline_roadmap
from agents.capabilities.operations import split_steps
from agents.capabilities.types import Capability, CapabilityInputError, CapabilityRequest

# Parsing an upload keeps a stored result; an SOP and a roadmap are drafts the person keeps.
# Summary statistics are a quick read-only answer.
ASKS_FIRST_BY_DEFAULT: Mapping[Capability, bool] = {
    Capability.PARSE_FILE: True,
    Capability.SUMMARIZE_CSV: False,
    Capability.BUILD_SOP: True,
    Capability.OUTLINE_ROADMAP: True,
}

_DOES = {
    Capability.PARSE_FILE: "read your file and report its format, size and contents",
    Capability.SUMMARIZE_CSV: "compute summary statistics of your CSV",
    Capability.BUILD_SOP: "draft an SOP and a checklist from your steps",
    Capability.OUTLINE_ROADMAP: "outline a roadmap from your goals",
}

QuestionKind = Literal["approval", "choice", "text", "file"]


@dataclass
class Proposal:
    """What to ask: an approval of `inputs`, or a clarifying question."""

    kind: QuestionKind
    prompt: str
    inputs: dict[str, str] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)


def asks_first(capability: Capability, overrides: Mapping[str, bool]) -> bool:
    """Whether this capability asks before it runs, with the operator's overrides applied."""
    return overrides.get(capability.value, ASKS_FIRST_BY_DEFAULT[capability])


def inputs_of(request: CapabilityRequest, upload: str | None) -> dict[str, str]:
    """The inputs a person approves or edits, by name (`upload`: the file it would read)."""
    if request.capability.needs_upload:
        return {"file": upload or ""}
    if request.capability is Capability.BUILD_SOP:
        return {"title": request.title or "", "steps": request.text}
    return {"goals": "\n".join(request.statements)}


def with_inputs(request: CapabilityRequest, inputs: Mapping[str, str]) -> CapabilityRequest:
    """The request with the person's edited inputs (names from `inputs_of`; others ignored)."""
    changes: dict[str, object] = {}
    if "file" in inputs:
        changes["upload_name"] = inputs["file"].strip() or None
    if "title" in inputs:
        changes["title"], changes["title_seq"] = inputs["title"], None
    if "steps" in inputs:
        changes["text"], changes["text_seq"] = inputs["steps"], None
    if "goals" in inputs:
        goals = [line for line in inputs["goals"].splitlines() if line.strip()]
        changes["statements"], changes["statement_seqs"] = goals, []
    return dataclasses.replace(request, **changes)  # type: ignore[arg-type]


def with_answer(request: CapabilityRequest, answer: str) -> CapabilityRequest:
    """The request completed by the answer to its clarifying question."""
    if request.capability.needs_upload:
        return dataclasses.replace(request, upload_name=answer)
    if request.capability is Capability.BUILD_SOP:
        return dataclasses.replace(request, text=answer, text_seq=None)
    return dataclasses.replace(request, statements=[*request.statements, answer], statement_seqs=[])


def clarification(request: CapabilityRequest, uploads: Sequence[str]) -> Proposal | None:
    """The question to ask when the request lacks its input; None when it has it.

    `uploads`: the names of the session's uploads this capability can read, oldest first.
    """
    capability = request.capability
    if capability.needs_upload:
        if request.upload_name is not None:
            if request.upload_name.casefold() in (name.casefold() for name in uploads):
                return None
            if uploads:
                return Proposal(
                    "choice",
                    f"I could not find {request.upload_name}. Which file did you mean?",
                    choices=list(uploads)[-20:],
                )
            return Proposal("file", f"I could not find {request.upload_name}. Please upload it.")
        if not uploads:
            return Proposal("file", "Which file should I use? Please upload it.")
        return None
    if capability is Capability.BUILD_SOP:
        if len(split_steps(request.text)) >= 2:
            return None
        return Proposal(
            "text", "Which steps does the process have? Write them one per line, in order."
        )
    try:
        outline_roadmap(request.statements)
    except CapabilityInputError:
        return Proposal(
            "text",
            "What goals should the roadmap reach? A number and a date help, e.g. "
            '"grow recurring revenue by 20% by Q4".',
        )
    return None


def approval(request: CapabilityRequest, upload: str | None) -> Proposal:
    """The approval a capability that asks first proposes."""
    return Proposal(
        "approval",
        f"May I {_DOES[request.capability]}? You can edit the inputs first, or decline.",
        inputs=inputs_of(request, upload),
    )
