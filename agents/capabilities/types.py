"""The typed vocabulary of orchestrator capabilities: what a liaison asks for, and what it gets.

Capabilities are pure: bytes or text in, a typed result out. Storage of uploads and anything
else with I/O stays in the activities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import ClassVar

from agents.catalog import AgentType

# Uploads above this size are refused: parsing them in a reply would stall the conversation.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# The longest upload name.
MAX_NAME_CHARS = 200


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
    # The liaison whose orchestrator runs it, and that writes the reply citing it.
    liaison: AgentType
    # Why the liaison decided to run it, in words (logged and shown in the reply's lead).
    reason: str
    # The upload the user named ("parse sales.csv"); None means the most recent suitable one.
    upload_name: str | None = None
    # BUILD_SOP: the described process; OUTLINE_ROADMAP: the user's goal statements.
    text: str = ""
    statements: list[str] = field(default_factory=list)
    # What the user called the thing: "onboarding new employees", "2025".
    title: str | None = None
    # A request that travels through the workflow names the user's messages that `text`,
    # `title` and `statements` were taken from by sequence number instead of carrying them
    # (see `by_reference`); where it runs they are read again (`with_texts`).
    text_seq: int | None = None
    title_seq: int | None = None
    statement_seqs: list[int] = field(default_factory=list)

    # Read from requests that earlier versions recorded or scheduled (route decisions, capability
    # runs): see foundations/payload_converter.py.
    RENAMED_FIELDS: ClassVar[dict[str, str]] = {"agent_type": "liaison"}

    def by_reference(self, sources: Sequence[tuple[int, str]]) -> CapabilityRequest:
        """This request naming its texts by the sequence numbers of the user messages
        (`sources`: seq and content, oldest first) they were taken from.

        A text found in no source stays inline: the planner only ever copies messages, so
        that does not happen, and the request stays usable if it ever does.
        """

        def seq_of(text: str) -> int | None:
            return next((seq for seq, content in reversed(sources) if content == text), None)

        text_seq = seq_of(self.text) if self.text else None
        title_seq = seq_of(self.title) if self.title else None
        statement_seqs = [seq_of(statement) for statement in self.statements]
        # Both can quote the message; no upload's name is longer (the edge refuses it).
        bounded = replace(
            self,
            reason=self.reason[: MAX_NAME_CHARS * 2],
            upload_name=self.upload_name[:MAX_NAME_CHARS] if self.upload_name else None,
        )
        if None in statement_seqs:
            return bounded
        return replace(
            bounded,
            text="" if text_seq is not None else self.text,
            text_seq=text_seq,
            title=None if title_seq is not None else self.title,
            title_seq=title_seq,
            statements=[],
            statement_seqs=[seq for seq in statement_seqs if seq is not None],
        )

    def with_texts(self, texts: Mapping[int, str]) -> CapabilityRequest:
        """This request with the messages it names (`texts`: content by seq) put back inline.

        A message no longer recorded (the history is trimmed) is left out.
        """
        return replace(
            self,
            text=texts.get(self.text_seq, "") if self.text_seq is not None else self.text,
            title=texts.get(self.title_seq) if self.title_seq is not None else self.title,
            statements=[texts[seq] for seq in self.statement_seqs if seq in texts]
            or self.statements,
            text_seq=None,
            title_seq=None,
            statement_seqs=[],
        )

    @property
    def seqs(self) -> list[int]:
        """The sequence numbers of the messages this request names."""
        named = [self.text_seq, self.title_seq, *self.statement_seqs]
        return sorted({seq for seq in named if seq is not None})


class CapabilityInputError(ValueError):
    """The input cannot be used; the message tells the user what to do instead."""
