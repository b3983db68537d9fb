"""The Platform Gateway's realm map and type checks, and that the composed worker respects them."""

from __future__ import annotations

from dataclasses import dataclass, make_dataclass

import pytest
import redis.asyncio as redis

from activities.agent_replies import AgentReplies
from activities.conductor import Conductor
from activities.orchestration import Orchestration
from activities.post_office import PostOffice
from activities.traffic_cop import TrafficCop, TrafficCopNeeds
from agents.builtin import BuiltInResponder
from agents.capabilities.content import UploadMetadata
from agents.orchestrators import default_registry
from api.main import EdgeNeeds
from foundations.admission import ContentPolicy
from foundations.communication import CommunicationFoundation
from foundations.gateway import (
    COMMUNICATION_ABSTRACTIONS,
    AbstractionAccessError,
    AbstractionTypeError,
    PlatformGateway,
    Realm,
)
from foundations.sessions import SessionStore
from foundations.uploads import UploadStore


def everything() -> dict[str, object]:
    """One object of the right kind per abstraction (nothing connects until used)."""
    client = redis.Redis()
    communication = CommunicationFoundation(
        client, stream_max_events=10, history_max_messages=10, retention_seconds=60
    )
    return {
        "session": SessionStore(client, 60),
        "state": client,
        "cache": client,
        "llm": BuiltInResponder(),
        "policy": ContentPolicy(),
        "orchestrators": default_registry(),
        "file_storage": UploadStore(client, 60, UploadMetadata),
        "communication_foundation": communication,
        **dict.fromkeys(COMMUNICATION_ABSTRACTIONS, communication),
    }


def asking_for(*names: str) -> type:
    """A role's needs that ask for `names`, each expected to be what `everything` holds."""
    kinds = {name: type(value) for name, value in everything().items()}
    return make_dataclass("Asks", [(name, kinds.get(name, object)) for name in names], frozen=True)


@pytest.mark.parametrize("name", sorted(COMMUNICATION_ABSTRACTIONS))
def test_smart_city_may_not_touch_raw_communication(name: str) -> None:
    gateway = PlatformGateway(everything())
    with pytest.raises(AbstractionAccessError) as refused:
        gateway.grant(Realm.SMART_CITY, asking_for("session", name))
    assert name in str(refused.value)
    assert "Communication Foundation" in str(refused.value)


def test_a_role_gets_its_abstractions_as_typed_fields() -> None:
    registered = everything()
    granted = PlatformGateway(registered).grant(Realm.SMART_CITY, TrafficCopNeeds)
    assert isinstance(granted, TrafficCopNeeds)
    assert granted.session is registered["session"]
    assert granted.cache is registered["cache"]
    assert granted.policy is registered["policy"]


def test_the_experience_realm_owns_websockets() -> None:
    assert PlatformGateway(everything()).grant(Realm.EXPERIENCE, asking_for("websocket"))


def test_a_missing_abstraction_is_named() -> None:
    with pytest.raises(LookupError, match="tenant"):
        PlatformGateway({}).grant(Realm.SMART_CITY, asking_for("tenant"))


def test_an_abstraction_of_the_wrong_type_is_refused_at_grant_time() -> None:
    registered = everything()
    registered["session"] = registered["cache"]
    with pytest.raises(AbstractionTypeError, match=r"session is a .*Redis, not a SessionStore"):
        PlatformGateway(registered).grant(Realm.SMART_CITY, TrafficCopNeeds)


def test_a_generic_abstraction_is_checked_by_its_class() -> None:
    registered = everything()
    registered["file_storage"] = registered["session"]
    with pytest.raises(AbstractionTypeError, match="file_storage is a SessionStore"):
        PlatformGateway(registered).grant(Realm.EXPERIENCE, EdgeNeeds)


@pytest.mark.parametrize("role", [TrafficCop, Conductor, Orchestration, PostOffice, AgentReplies])
def test_every_role_asks_only_for_what_its_realm_allows(role: type) -> None:
    PlatformGateway(everything()).grant(role.REALM, role.USES)  # type: ignore[attr-defined]


def test_the_edge_asks_only_for_what_the_experience_realm_allows() -> None:
    PlatformGateway(everything()).grant(Realm.EXPERIENCE, EdgeNeeds)


@dataclass(frozen=True)
class _Overstepping(TrafficCopNeeds):
    websocket: CommunicationFoundation


def test_composition_fails_fast_when_a_role_oversteps(monkeypatch: pytest.MonkeyPatch) -> None:
    from foundations.settings import Settings
    from workers.composition import activities

    monkeypatch.setattr(TrafficCop, "USES", _Overstepping)
    with pytest.raises(AbstractionAccessError, match="websocket"):
        activities(redis.Redis(), Settings())
