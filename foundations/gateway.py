"""The Platform Gateway: which infrastructure abstractions each realm may use.

The map is declarative and checked when the worker and the API are composed, so a role that
asks for something outside its realm stops the process at start-up, not mid-conversation.
Smart City roles in particular never get raw communication infrastructure: they reach it only
through the Communication Foundation.

Each role declares what it uses as a frozen dataclass: a field per abstraction, named after it
and typed with the class the role expects. `grant` fills one in, so a role reads its
dependencies as typed attributes, and an abstraction registered as the wrong kind of object
stops the start-up too, instead of failing on first use.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# What a role uses: a dataclass whose fields are abstraction names and expected types.
Needs = TypeVar("Needs", bound="DataclassInstance")


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


class AbstractionTypeError(TypeError):
    """An abstraction is registered as another kind of object than the role expects."""


class PlatformGateway:
    """Hands each realm the abstractions it is allowed, and nothing else."""

    def __init__(self, abstractions: Mapping[str, object]) -> None:
        self._abstractions = dict(abstractions)

    def grant(self, realm: Realm, needs: type[Needs]) -> Needs:
        """`needs` filled in with the registered abstractions, each checked against its type.

        Raises AbstractionAccessError naming every field the realm may not use, LookupError
        naming every one nobody registered, AbstractionTypeError naming every one registered
        as the wrong kind of object.
        """
        names = [field.name for field in dataclasses.fields(needs)]
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
        expected = typing.get_type_hints(needs)
        wrong = [
            f"{name} is a {type(self._abstractions[name]).__name__}, "
            f"not a {_class_of(expected[name]).__name__}"
            for name in names
            if not isinstance(self._abstractions[name], _class_of(expected[name]))
        ]
        if wrong:
            raise AbstractionTypeError(f"{needs.__name__}: {'; '.join(wrong)}")
        return needs(**{name: self._abstractions[name] for name in names})


def _class_of(hint: object) -> type:
    """The class an isinstance check can test: `UploadStore[Metadata]` is an `UploadStore`."""
    origin = typing.get_origin(hint) or hint
    if not isinstance(origin, type):
        raise TypeError(f"a role's needs must be typed with classes, not {hint!r}")
    return origin
