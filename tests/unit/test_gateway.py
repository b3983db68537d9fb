"""The Platform Gateway's realm map, and that the composed worker respects it."""

from __future__ import annotations

import pytest

from activities.agent_replies import AgentReplies
from activities.conductor import Conductor
from activities.post_office import PostOffice
from activities.traffic_cop import TrafficCop
from foundations.gateway import (
    COMMUNICATION_ABSTRACTIONS,
    AbstractionAccessError,
    PlatformGateway,
    Realm,
)

EVERYTHING = {
    name: object()
    for name in [
        "session",
        "state",
        "cache",
        "llm",
        "policy",
        "auth",
        "orchestrators",
        "communication_foundation",
        *COMMUNICATION_ABSTRACTIONS,
    ]
}


@pytest.mark.parametrize("name", sorted(COMMUNICATION_ABSTRACTIONS))
def test_smart_city_may_not_touch_raw_communication(name: str) -> None:
    gateway = PlatformGateway(EVERYTHING)
    with pytest.raises(AbstractionAccessError) as refused:
        gateway.grant(Realm.SMART_CITY, ["session", name])
    assert name in str(refused.value)
    assert "Communication Foundation" in str(refused.value)


def test_smart_city_gets_what_its_realm_allows() -> None:
    gateway = PlatformGateway(EVERYTHING)
    granted = gateway.grant(Realm.SMART_CITY, ["session", "cache", "policy", "llm"])
    assert granted == {name: EVERYTHING[name] for name in ["session", "cache", "policy", "llm"]}


def test_the_experience_realm_owns_websockets() -> None:
    assert PlatformGateway(EVERYTHING).grant(Realm.EXPERIENCE, ["websocket"])


def test_a_missing_abstraction_is_named() -> None:
    with pytest.raises(LookupError, match="tenant"):
        PlatformGateway({}).grant(Realm.SMART_CITY, ["tenant"])


@pytest.mark.parametrize("role", [TrafficCop, Conductor, PostOffice, AgentReplies])
def test_every_role_asks_only_for_what_its_realm_allows(role: type) -> None:
    PlatformGateway(EVERYTHING).grant(role.REALM, role.USES)  # type: ignore[attr-defined]


def test_composition_fails_fast_when_a_role_oversteps(monkeypatch: pytest.MonkeyPatch) -> None:
    import redis.asyncio as redis

    from foundations.settings import Settings
    from workers.composition import activities

    monkeypatch.setattr(TrafficCop, "USES", (*TrafficCop.USES, "websocket"))
    with pytest.raises(AbstractionAccessError, match="websocket"):
        activities(redis.Redis(), Settings())
