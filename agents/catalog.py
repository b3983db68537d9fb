"""The agents a user can talk to and the business pillars they serve.

Pure data, no Temporal: the workflow, the activities and the edge all agree on these names.
"""

from __future__ import annotations

from enum import StrEnum


class Pillar(StrEnum):
    CONTENT = "content"
    INSIGHTS = "insights"
    OPERATIONS = "operations"
    BUSINESS_OUTCOMES = "business_outcomes"


class AgentType(StrEnum):
    GUIDE = "guide"
    CONTENT_LIAISON = "content_liaison"
    INSIGHTS_LIAISON = "insights_liaison"
    OPERATIONS_LIAISON = "operations_liaison"
    BUSINESS_OUTCOMES_LIAISON = "business_outcomes_liaison"

    @property
    def pillar(self) -> Pillar | None:
        """The pillar a liaison serves; None for the cross-domain guide."""
        if self is AgentType.GUIDE:
            return None
        return Pillar(self.value.removesuffix("_liaison"))


def liaison_for(pillar: Pillar) -> AgentType:
    return AgentType(f"{pillar.value}_liaison")
