"""Questions a turn asks the person, and the wait for their answers (issue: ask before acting).

A turn whose capability asks first, or lacks its input, asks (activities/questions.py) and is
parked here: it leaves its conversation's queue, so the conversation goes on answering other
messages, and waits for the `answer_question` update or its deadline, however many days that
takes. Then the turn goes back into the queue with its resolution (`Turn.resolution`) and
runs on: approved or edited, the capability runs; rejected or expired, the reply says so; a
clarifying answer completes the request, which may then still ask for approval. Open
questions travel through continue-as-new.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.conductor import RouteDecision
    from activities.questions import AskedQuestion, AskInput, Questions, ResolveInput
    from agents.capabilities.asking import with_answer, with_inputs
    from agents.catalog import AgentType
    from foundations.errors import ErrorCode

from workflows.question_payloads import (
    AnswerQuestionInput,
    AnswerQuestionResult,
    OpenQuestion,
    Resolution,
)
from workflows.session_payloads import Turn
from workflows.turn_pipeline import LOCAL_STEP_TIMEOUT, TURN_STEP_RETRY

AWAITING_PERSON_ATTRIBUTE = SearchAttributeKey.for_bool("ChatAwaitingPerson")
# Ids of recently resolved questions, so a late answer hears "closed", not "unknown".
RECENTLY_CLOSED = 200
# The longest edited input or text answer (as long as a message may be).
ANSWER_MAX_CHARS = 8000
# New command sequences (ask, wait, resolve) in turns that run a capability.
QUESTIONS_PATCH = "turn-questions"


class QuestionDesk:
    """The session's open questions: asks, waits, takes the first answer, resumes the turn."""

    def __init__(
        self,
        session_id: str,
        timeout: timedelta,
        resume: Callable[[AgentType, Turn], None],
    ) -> None:
        self._session_id = session_id
        self._timeout = timeout
        self._resume = resume
        self.open: dict[str, OpenQuestion] = {}
        self._closed: list[str] = []
        # Answered questions whose turn is not back in its queue yet.
        self.resolving = 0
        self._waiters: set[asyncio.Task[None]] = set()

    # --- asking (from the turn) ----------------------------------------------------------

    async def ask(self, conversation: AgentType, turn: Turn, decision: RouteDecision) -> bool:
        """Ask what this turn's capability needs asked; True: the turn is parked here."""
        request = decision.capability
        if request is None or not workflow.patched(QUESTIONS_PATCH):
            return False
        resolution = turn.resolution
        if resolution is not None:
            if resolution.request is None or resolution.outcome in ("approved", "edited"):
                return False  # decided: run it as approved, or answer without it
            request = resolution.request
        question_id = "q-" + workflow.uuid4().hex
        deadline = workflow.now() + self._timeout
        asked: AskedQuestion | None = await workflow.execute_local_activity_method(
            Questions.ask,
            AskInput(
                self._session_id,
                conversation,
                turn.message_id,
                request,
                question_id,
                deadline.isoformat(),
            ),
            start_to_close_timeout=LOCAL_STEP_TIMEOUT,
            retry_policy=TURN_STEP_RETRY,
        )
        if asked is None:
            return False
        self._open(
            OpenQuestion(
                question_id,
                asked.kind,
                conversation,
                turn.message_id,
                turn.seq,
                turn.event_id,
                decision,
                request,
                deadline.isoformat(),
                asked.inputs,
                asked.choices,
            )
        )
        return True

    def reopen(self, questions: list[OpenQuestion]) -> None:
        """Wait again for the questions a previous run carried over continue-as-new."""
        for question in questions:
            self._open(question)

    def carried(self) -> list[OpenQuestion]:
        return list(self.open.values())

    def _open(self, question: OpenQuestion) -> None:
        self.open[question.question_id] = question
        self._show()
        waiter = asyncio.create_task(self._wait(question))
        self._waiters.add(waiter)
        waiter.add_done_callback(self._waiters.discard)

    async def _wait(self, question: OpenQuestion) -> None:
        remaining = datetime.fromisoformat(question.deadline) - workflow.now()
        # Expired when it times out: the resolution then says so.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: question.answer is not None,
                timeout=max(remaining, timedelta(seconds=1)),
                timeout_summary="question deadline",
            )
        self.resolving += 1
        try:
            resolution, answer = _resolution(question)
            await workflow.execute_local_activity_method(
                Questions.resolve,
                ResolveInput(
                    self._session_id,
                    question.conversation,
                    question.question_id,
                    resolution.outcome,  # type: ignore[arg-type]
                    answer,
                ),
                start_to_close_timeout=LOCAL_STEP_TIMEOUT,
                retry_policy=TURN_STEP_RETRY,
            )
            del self.open[question.question_id]
            self._closed = [*self._closed, question.question_id][-RECENTLY_CLOSED:]
            self._show()
            self._resume(
                question.conversation,
                Turn(
                    question.message_id,
                    question.seq,
                    event_id=question.event_id,
                    resolution=resolution,
                ),
            )
        finally:
            self.resolving -= 1

    def _show(self) -> None:
        workflow.upsert_search_attributes([AWAITING_PERSON_ATTRIBUTE.value_set(bool(self.open))])

    # --- answering (from the update) -----------------------------------------------------

    def check(self, answer: AnswerQuestionInput) -> OpenQuestion:
        """The open question this answers; raises what makes the answer unacceptable."""
        question = self.open.get(answer.question_id)
        if question is None or question.answer is not None:
            if question is not None or answer.question_id in self._closed:
                raise ApplicationError(
                    "This question was already answered or has expired.",
                    type=ErrorCode.QUESTION_CLOSED,
                )
            raise ApplicationError("No open question has this id.", type=ErrorCode.UNKNOWN_QUESTION)
        _check_fits(question, answer)
        return question

    def answer(self, answer: AnswerQuestionInput) -> AnswerQuestionResult:
        """Take the answer if it is the first; the waiting turn resumes."""
        # Two answers validated in the same workflow task: the second finds this one here.
        question = self.check(answer)
        question.answer = answer
        return AnswerQuestionResult(answer.question_id, _resolution(question)[0].outcome)


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=ErrorCode.INVALID_ANSWER)


def _check_fits(question: OpenQuestion, answer: AnswerQuestionInput) -> None:
    """Raise when the answer is not one this kind of question takes."""
    texts = [answer.text, answer.choice, answer.upload, *(answer.inputs or {}).values()]
    if any(text is not None and len(text) > ANSWER_MAX_CHARS for text in texts):
        raise _invalid(f"An answer may have at most {ANSWER_MAX_CHARS} characters.")
    if question.kind == "approval":
        if answer.decision not in ("approve", "edit", "reject"):
            raise _invalid('Answer an approval with decision "approve", "edit" or "reject".')
        if answer.decision == "edit":
            unknown = set(answer.inputs or {}) - set(question.inputs)
            if not answer.inputs or unknown:
                raise _invalid(
                    "An edit changes some of the inputs "
                    f"{', '.join(sorted(question.inputs))}; unknown: "
                    f"{', '.join(sorted(unknown)) or 'none given'}."
                )
    elif question.kind == "choice":
        if answer.choice not in question.choices:
            raise _invalid(f"Choose one of: {', '.join(question.choices)}.")
    elif question.kind == "text":
        if not (answer.text or "").strip():
            raise _invalid("Answer this question with a text.")
    elif not (answer.upload or "").strip():
        raise _invalid("Answer a file request with the uploaded file's name in upload.")


def _resolution(question: OpenQuestion) -> tuple[Resolution, dict[str, Any] | None]:
    """How the answer (or its absence) resumes the turn, and the answer as the tabs see it."""
    answer, request, decision = question.answer, question.request, question.decision
    capability = request.capability.value
    if answer is None:
        note = (
            f"Nobody answered my question before its deadline ({question.deadline}), so I did "
            f"not run {capability}. Ask me again when you are ready."
        )
        return Resolution("expired", decision, None, note), None
    if question.kind != "approval":
        given = answer.choice or answer.text or answer.upload or ""
        return Resolution("answered", decision, with_answer(request, given)), {"answer": given}
    if answer.decision == "reject":
        note = f"You declined, so I did not run {capability}. Tell me what you would like instead."
        return Resolution("rejected", decision, None, note), {"decision": "reject"}
    if answer.decision == "edit":
        edited = with_inputs(request, answer.inputs or {})
        return Resolution("edited", decision, edited), {"decision": "edit", "inputs": answer.inputs}
    return Resolution("approved", decision, request), {"decision": "approve"}
