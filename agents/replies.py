"""The one interface between the reply activity and the agent logic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from agents.catalog import AgentType

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class WindowMessage:
    """One earlier message of the conversation, as the agent sees it."""

    role: Role
    content: str
    # Its place in the conversation (0: not known), by which it can be read again.
    seq: int = 0


@dataclass(frozen=True)
class CapabilityOutcome:
    """What an orchestrator capability did for this message, for the reply to cite.

    `summary` is complete, user-readable text with the figures in it; when `ok` is false it
    says what went wrong and what to do instead, so a failed capability still gives a useful
    reply.
    """

    capability: str
    ok: bool
    summary: str


@dataclass(frozen=True)
class ReplyContext:
    """Everything an agent needs to answer one user message."""

    session_id: str
    # The agent that writes the reply.
    author: AgentType
    message: str
    # Oldest first; the message being answered is not part of it.
    window: list[WindowMessage] = field(default_factory=list)
    # Set when the liaison ran one of its orchestrator's capabilities for this message.
    capability: CapabilityOutcome | None = None


class ReplyProvider(Protocol):
    """Streams one reply as text deltas; the concatenation of the deltas is the reply."""

    def stream_reply(self, context: ReplyContext) -> AsyncIterator[str]: ...


class ReplyRejected(Exception):
    """The provider refused this request for good; retrying cannot help."""


class ReplyUnavailable(Exception):
    """The provider failed for now; a retry may succeed."""

    def __init__(self, message: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
