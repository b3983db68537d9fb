"""The typed vocabulary of orchestrator capabilities: what a liaison asks for, and what it gets.

Capabilities are pure: bytes or text in, a typed result out. Storage of uploads and anything
else with I/O stays in the activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from agents.catalog import AgentType

# Uploads above this size are refused: parsing them in a reply would stall the conversation.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class Capability(StrEnum):
    """The capabilities the four MVP orchestrators offer."""

    PARSE_FILE = "parse_file"  # content: what is in an uploaded file
    SUMMARIZE_CSV = "summarize_csv"  # insights: summary statistics of an uploaded CSV
    BUILD_SOP = "build_sop"  # operations: an SOP and a checklist from a described process
    OUTLINE_ROADMAP = "outline_roadmap"  # business outcomes: a roadmap from stated goals

    @property
    def needs_upload(self) -> bool:
        """Whether the caller must hand over one of the session's uploads."""
        return self in (Capability.PARSE_FILE, Capability.SUMMARIZE_CSV)


@dataclass(frozen=True)
class Upload:
    """One file the user uploaded to the session, as the capability sees it."""

    name: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class CapabilityRequest:
    """A liaison's decision to run a capability for the message it is answering."""

    capability: Capability
    agent_type: AgentType
    # Why the liaison decided to run it, in words (logged and shown in the reply's lead).
    reason: str
    # The upload the user named ("parse sales.csv"); None means the most recent suitable one.
    upload_name: str | None = None
    # BUILD_SOP: the described process; OUTLINE_ROADMAP: the user's goal statements.
    text: str = ""
    statements: list[str] = field(default_factory=list)
    # What the user called the thing: "onboarding new employees", "2025".
    title: str | None = None


class CapabilityInputError(ValueError):
    """The input cannot be used; the message tells the user what to do instead."""
