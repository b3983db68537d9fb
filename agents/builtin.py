"""The built-in, offline, deterministic responder: each agent answers in its own voice."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from agents.catalog import AgentType
from agents.replies import ReplyContext

_INTRODUCTIONS: dict[AgentType, str] = {
    AgentType.GUIDE: (
        "Guide here. I help you find your way across the platform: Content for your files, "
        "Insights for analysis, Operations for processes and Business Outcomes for plans."
    ),
    AgentType.CONTENT_LIAISON: (
        "Content liaison here. I work with the Content Analysis orchestrator on uploading, "
        "parsing and describing your files."
    ),
    AgentType.INSIGHTS_LIAISON: (
        "Insights liaison here. I work with the Insights orchestrator on analysis, charts "
        "and anomalies in your data."
    ),
    AgentType.OPERATIONS_LIAISON: (
        "Operations liaison here. I work with the Operations orchestrator on SOPs, workflows "
        "and process maps."
    ),
    AgentType.BUSINESS_OUTCOMES_LIAISON: (
        "Business Outcomes liaison here. I work with the Business Outcomes orchestrator on "
        "roadmaps, ROI and proposals."
    ),
}

_WORD = re.compile(r"\S+\s*")


def compose_reply(context: ReplyContext) -> str:
    earlier = sum(1 for message in context.window if message.role == "user")
    topic = " ".join(context.message.split()[:12])
    return (
        f'{_INTRODUCTIONS[context.agent_type]} You asked about: "{topic}". '
        f"This is message {earlier + 1} of our conversation."
    )


def word_deltas(text: str) -> list[str]:
    """Split text into word-sized deltas whose concatenation is the text."""
    return _WORD.findall(text) or [text]


class BuiltInResponder:
    """Answers every agent type deterministically, word by word."""

    async def stream_reply(self, context: ReplyContext) -> AsyncIterator[str]:
        for delta in word_deltas(compose_reply(context)):
            yield delta
