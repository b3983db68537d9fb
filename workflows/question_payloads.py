"""The payload types of questions a turn asks: answers, resolutions, questions carried over.

They travel through Temporal as JSON (updates, the next run's input); new fields get defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.conductor import RouteDecision
    from agents.capabilities import CapabilityRequest
    from agents.catalog import AgentType


@dataclass
class Resolution:
    """How a parked turn goes on: run `request` (None: do not run it; `note` says why)."""

    outcome: str  # approved | edited | rejected | answered | expired
    decision: RouteDecision
    request: CapabilityRequest | None = None
    note: str = ""


@dataclass
class AnswerQuestionInput:
    question_id: str
    decision: str | None = None  # approve | edit | reject: an approval's answer
    inputs: dict[str, str] | None = None  # edit: the inputs changed
    text: str | None = None
    choice: str | None = None
    upload: str | None = None  # a file request: the uploaded file's name


@dataclass
class AnswerQuestionResult:
    question_id: str
    outcome: str


@dataclass
class OpenQuestion:
    """A question waiting for its answer, with the parked turn it resumes."""

    question_id: str
    kind: str
    conversation: AgentType
    # The parked turn (its text stays in Redis), and what routing decided for it.
    message_id: str
    seq: int
    event_id: str
    decision: RouteDecision
    request: CapabilityRequest
    deadline: str
    inputs: dict[str, str] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)
    answer: AnswerQuestionInput | None = None
