"""The Platform Gateway: which infrastructure abstractions each realm may use.

The map is declarative and checked when the worker and the API are composed, so a role that
asks for something outside its realm stops the process at start-up, not mid-conversation.
Smart City roles in particular never get raw communication infrastructure: they reach it only
through the Communication Foundation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class Realm(StrEnum):
    SMART_CITY = "smart_city"
    BUSINESS_ENABLEMENT = "business_enablement"
    JOURNEY_SOLUTION = "journey_solution"
    EXPERIENCE = "experience"


# Raw communication infrastructure, owned by the Communication Foundation.
COMMUNICATION_ABSTRACTIONS = frozenset({"messaging", "event_management", "websocket", "event_bus"})

REALM_ABSTRACTIONS: Mapping[Realm, frozenset[str]] = {
    Realm.SMART_CITY: frozenset(
        {
            "session",
            "state",
            "auth",
            "authorization",
            "tenant",
            "llm",
            "policy",
            "cache",
            "file_storage",
            "telemetry",
            "orchestrators",
            "communication_foundation",
        }
    ),
    Realm.BUSINESS_ENABLEMENT: frozenset(
        {
            "llm",
            "file_storage",
            "cache",
            "state",
            "telemetry",
            "orchestrators",
            "communication_foundation",
        }
    ),
    Realm.JOURNEY_SOLUTION: frozenset({"session", "state", "cache", "telemetry"}),
    Realm.EXPERIENCE: frozenset(
        {
            "session",
            "auth",
            "file_storage",
            "websocket",
            "messaging",
            "event_bus",
            "orchestrators",
            "communication_foundation",
        }
    ),
}


class AbstractionAccessError(PermissionError):
    """A realm asked for an abstraction the gateway does not grant it."""


class PlatformGateway:
    """Hands each realm the abstractions it is allowed, and nothing else."""

    def __init__(self, abstractions: Mapping[str, Any]) -> None:
        self._abstractions = dict(abstractions)

    def grant(self, realm: Realm, names: Iterable[str]) -> dict[str, Any]:
        """The requested abstractions, or an error naming every one the realm may not have."""
        names = list(names)
        allowed = REALM_ABSTRACTIONS[realm]
        refused = [name for name in names if name not in allowed]
        if refused:
            hint = (
                " (communication goes through the Communication Foundation)"
                if COMMUNICATION_ABSTRACTIONS.intersection(refused)
                else ""
            )
            raise AbstractionAccessError(
                f"realm {realm.value} may not use {', '.join(sorted(refused))}{hint}"
            )
        missing = [name for name in names if name not in self._abstractions]
        if missing:
            raise LookupError(f"no abstraction registered for {', '.join(sorted(missing))}")
        return {name: self._abstractions[name] for name in names}
