"""The liaison's decision: does this message ask for one of its orchestrator's capabilities?

Questions about how things work ("what formats do you support?") are answered from knowledge;
requests to do something with the user's own material ("parse sales.csv", "turn these steps
into a checklist") run a capability. The cues are grammatical (an action verb and something
of the user's to act on), not topic words: the topic was already settled by routing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from agents.capabilities.business_outcomes import outline_roadmap
from agents.capabilities.content import parse_file
from agents.capabilities.insights import summarize_csv
from agents.capabilities.operations import build_sop, split_steps
from agents.capabilities.types import Capability, CapabilityInputError, CapabilityRequest, Upload
from agents.catalog import AgentType
from agents.replies import CapabilityOutcome, WindowMessage

logger = logging.getLogger(__name__)

# A file name starts where a run of name characters starts ((?<!...)): tried from every
# letter of a long run such as "a.a.a.a...", the scan was quadratic in the run.
FILE_NAME = re.compile(
    r"(?<![\w\-.])[\-.]*(?P<name>\w[\w\-.]*\.(?:csv|tsv|json|txt|md|log))\b", re.IGNORECASE
)
# "my file", "the csv", "this upload", "the data I sent": the user's own material.
_OWN_MATERIAL = re.compile(
    r"\b(?:my|the|this|that|our|these|those)\s+(?:\w+\s+)?(?:files?|uploads?|csv|json|"
    r"data(?:set)?|spreadsheet|document|doc|table|export|log)\b"
    r"|\bi\s+(?:just\s+)?(?:uploaded|sent|attached|shared)\b|\b(?:it|them)\b",
    re.IGNORECASE,
)
_CONTENT_ACTION = re.compile(
    r"\b(?:parse|read|open|inspect|check|scan|load|describe|look\s+at|what(?:'s|\s+is|\s+did)"
    r"|how\s+many\s+(?:rows|columns|records|lines|keys|fields|items)|which\s+(?:columns|keys|"
    r"fields)|show\s+me|tell\s+me)\b",
    re.IGNORECASE,
)
_GENERAL_QUESTION = re.compile(
    r"^\s*(?:how\s+(?:do|can|should|does|long)|what\s+(?:file\s+)?formats?|which\s+formats?|"
    r"do\s+you\s+support|is\s+there|are\s+\w+\s+supported|can\s+(?:i|u|you)\s+upload)\b",
    re.IGNORECASE,
)
_STATISTIC = re.compile(
    r"\b(?:summar(?:y|ise|ize)|statistics?|stats|describe|average|mean|median|min(?:imum)?|"
    r"max(?:imum)?|standard\s+deviation|stdev|outliers?|anomal(?:y|ies)|distribution|"
    r"top\s+(?:values|categories)|most\s+common|spread)\b",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^\s*(?:please\s+|pls\s+|ok(?:ay)?,?\s+|now\s+|and\s+)?(?:find|show|give|calculate|"
    r"calcualte|compute|summar(?:ise|ize)|describe|list|detect|get|spot|run|check|what\s+are|"
    r"what's|what\s+is|any)\b",
    re.IGNORECASE,
)
_BUILD = re.compile(
    r"\b(?:write|draft|create|make|build|turn|generate|produce|convert|prepare|put\s+together|"
    r"outline|give\s+me|document)\b",
    re.IGNORECASE,
)
_SOP_ARTIFACT = re.compile(
    r"\b(?:sops?|procedures?|checklists?|runbooks?|work\s+instructions?|step[- ]by[- ]step)\b",
    re.IGNORECASE,
)
_ROADMAP_ARTIFACT = re.compile(
    r"\b(?:roadmaps?|road\s+map|plan|milestones?|now,?\s+next,?\s+later|outline)\b",
    re.IGNORECASE,
)
_STATED_GOAL = re.compile(
    r"\b(?:our\s+goals?|goal\s+is|we\s+(?:want|need|plan|aim)\s+to|objectives?\s+(?:is|are))\b",
    re.IGNORECASE,
)


# Characters of earlier turns planning reads when looking back for a described process: the
# process is in the last few turns, and reading every turn of a long window would cost more.
PLANNING_LOOKBACK_CHARS = 20_000


def _user_turns(window: Sequence[WindowMessage]) -> list[str]:
    return [message.content for message in window if message.role == "user"]


def _recent_user_turns(window: Sequence[WindowMessage]) -> list[str]:
    """The user's earlier turns, newest first, while they fit in PLANNING_LOOKBACK_CHARS."""
    turns, room = [], PLANNING_LOOKBACK_CHARS
    for turn in reversed(_user_turns(window)):
        if len(turn) > room:
            break
        turns.append(turn)
        room -= len(turn)
    return turns


def _plan_content(message: str) -> CapabilityRequest | None:
    named = FILE_NAME.search(message)
    if _GENERAL_QUESTION.search(message) and not named:
        return None
    asks = _CONTENT_ACTION.search(message) or re.search(r"\bparse|uploaded\b", message, re.I)
    if named or (asks and _OWN_MATERIAL.search(message)):
        return CapabilityRequest(
            Capability.PARSE_FILE,
            AgentType.CONTENT_LIAISON,
            f"you asked what is in {named.group('name') if named else 'your upload'}",
            upload_name=named.group("name") if named else None,
        )
    return None


def _plan_insights(message: str) -> CapabilityRequest | None:
    if not _STATISTIC.search(message):
        return None
    named = FILE_NAME.search(message)
    if _GENERAL_QUESTION.search(message) and not named:
        return None
    if re.search(r"\bwhat\s+does\b|\bwhat\s+is\s+(?:a|an|the)\s+\w+\?*$", message, re.I):
        return None  # "what does standard deviation tell me" is a question about the idea
    if named or _OWN_MATERIAL.search(message) or _IMPERATIVE.search(message):
        return CapabilityRequest(
            Capability.SUMMARIZE_CSV,
            AgentType.INSIGHTS_LIAISON,
            "you asked for statistics of your data",
            upload_name=named.group("name") if named else None,
        )
    return None


def _plan_operations(message: str, window: Sequence[WindowMessage]) -> CapabilityRequest | None:
    if not (_SOP_ARTIFACT.search(message) and _BUILD.search(message)):
        return None
    if _GENERAL_QUESTION.search(message) and len(split_steps(message)) < 2:
        return None  # "how long does it take to write an SOP?" asks about SOPs
    # The steps are in this message, or in what the user described before asking.
    for text in (message, *_recent_user_turns(window)):
        if len(split_steps(text)) >= 2:
            return CapabilityRequest(
                Capability.BUILD_SOP,
                AgentType.OPERATIONS_LIAISON,
                "you asked for an SOP of the process you described",
                text=text,
                title=message,
            )
    # Nothing to build from yet: the capability's error asks for the steps.
    return CapabilityRequest(
        Capability.BUILD_SOP,
        AgentType.OPERATIONS_LIAISON,
        "you asked for an SOP",
        text=message,
        title=message,
    )


def _plan_business_outcomes(
    message: str, window: Sequence[WindowMessage]
) -> CapabilityRequest | None:
    if not _ROADMAP_ARTIFACT.search(message):
        return None
    if not (_BUILD.search(message) or _STATED_GOAL.search(message)):
        return None
    if _GENERAL_QUESTION.search(message):
        return None
    return CapabilityRequest(
        Capability.OUTLINE_ROADMAP,
        AgentType.BUSINESS_OUTCOMES_LIAISON,
        "you asked for a roadmap from your goals",
        statements=[*_user_turns(window), message],
    )


def plan_capability(
    agent_type: AgentType, message: str, window: Sequence[WindowMessage] = ()
) -> CapabilityRequest | None:
    """The capability the liaison should run for this message, or None to answer from knowledge."""
    if agent_type is AgentType.CONTENT_LIAISON:
        return _plan_content(message)
    if agent_type is AgentType.INSIGHTS_LIAISON:
        return _plan_insights(message)
    if agent_type is AgentType.OPERATIONS_LIAISON:
        return _plan_operations(message, window)
    if agent_type is AgentType.BUSINESS_OUTCOMES_LIAISON:
        return _plan_business_outcomes(message, window)
    return None


OUT_OF_MEMORY = (
    "That needed more memory than one request may use, so I stopped. Your data is untouched; "
    "try a smaller file (fewer rows or columns) or a shorter description."
)

_NO_UPLOAD = {
    Capability.PARSE_FILE: (
        "There is no file in this session yet. Upload one (text, CSV or JSON, up to 10 MB) "
        "and ask me again; I will report its format, size and what is inside."
    ),
    Capability.SUMMARIZE_CSV: (
        "There is no CSV in this session yet. Upload your data as a CSV through the Content "
        "liaison, then ask me again for summary statistics."
    ),
}


def run_capability(request: CapabilityRequest, upload: Upload | None = None) -> CapabilityOutcome:
    """Run a planned capability; never raises. A failure becomes an outcome that says what to do.

    `upload` is the session's file named by `request.upload_name`, or its most recent suitable
    upload when no name was given; it is only read by capabilities whose `needs_upload` is set.
    """
    capability = request.capability
    try:
        if capability.needs_upload and upload is None:
            name = request.upload_name
            text = (
                f"I could not find {name} in this session. Check the name, or upload it again."
                if name
                else _NO_UPLOAD[capability]
            )
            return CapabilityOutcome(capability.value, False, text)
        if capability is Capability.PARSE_FILE and upload is not None:
            summary = parse_file(upload).render()
        elif capability is Capability.SUMMARIZE_CSV and upload is not None:
            summary = summarize_csv(upload).render()
        elif capability is Capability.BUILD_SOP:
            summary = build_sop(request.text, request.title or "").render()
        else:
            summary = outline_roadmap(request.statements).render()
    except CapabilityInputError as error:
        return CapabilityOutcome(capability.value, False, str(error))
    except MemoryError:
        # The process running it has a memory cap (see foundations/processes.py).
        return CapabilityOutcome(capability.value, False, OUT_OF_MEMORY)
    except Exception:
        # A capability bug must not end the turn: the user gets an apology and the log the trace.
        logger.exception("capability %s failed", capability.value)
        return CapabilityOutcome(
            capability.value,
            False,
            "Something went wrong on my side while working on that. Your data is untouched; "
            "try again, or describe what you need differently.",
        )
    return CapabilityOutcome(capability.value, True, summary)
