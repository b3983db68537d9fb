"""System prompts for a real language model, one per agent, built from the knowledge base.

Each prompt names the agent, says what its pillar does (the knowledge's about paragraph), and
sets the rules every agent follows; the model gets the same facts the built-in responder uses.
"""

from __future__ import annotations

from agents.catalog import AgentType
from agents.retrieval import load_knowledge

_RULES = (
    "Answer in plain text, in a few short sentences or a short list; no Markdown headings. "
    "Use only what the reference notes and the conversation say about the platform; when you "
    "do not know, say so. Never ask for passwords or secrets. "
    "When a capability result is given, base your answer on its figures and quote them."
)
_ROLES: dict[AgentType, str] = {
    AgentType.GUIDE: (
        "You are the Guide of a business enablement platform with four pillars: Content, "
        "Insights, Operations and Business Outcomes. You answer questions about the platform "
        "itself and point people to the pillar liaison who can help. For requests outside the "
        "platform's work (general knowledge, legal, medical or financial advice) say briefly "
        "that you cannot help with that here and what the platform can do instead."
    ),
    AgentType.CONTENT_LIAISON: "You are the Content liaison of a business enablement platform.",
    AgentType.INSIGHTS_LIAISON: "You are the Insights liaison of a business enablement platform.",
    AgentType.OPERATIONS_LIAISON: (
        "You are the Operations liaison of a business enablement platform."
    ),
    AgentType.BUSINESS_OUTCOMES_LIAISON: (
        "You are the Business Outcomes liaison of a business enablement platform."
    ),
}


def default_system_prompts() -> dict[AgentType, str]:
    """One system prompt per agent type."""
    return {
        agent: f"{role} {load_knowledge(agent).about} {_RULES}" for agent, role in _ROLES.items()
    }
