"""jwt mode against a real JWKS endpoint: a local HTTP server serving keys the test rotates."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api.identity import AuthError
from api.identity.bearer import BearerVerifier
from foundations.settings import Settings
from tests.jwks_server import AUDIENCE, ISSUER, JwksServer


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def verifier(jwks: JwksServer, cooldown: float = 0.0) -> BearerVerifier:
    return BearerVerifier(
        Settings(
            auth_mode="jwt",
            jwt_jwks_url=jwks.url,
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            jwt_jwks_refresh_cooldown_seconds=cooldown,
        )
    )


async def test_a_token_signed_by_a_published_key_is_accepted(jwks: JwksServer) -> None:
    jwks.add_key("k1")
    user = await verifier(jwks).verify(jwks.token("k1", name="Carol"))
    assert (user.id, user.display_name) == ("jwt:carol", "Carol")


async def test_a_rotated_key_is_picked_up_without_a_restart(jwks: JwksServer) -> None:
    jwks.add_key("k1")
    check = verifier(jwks)
    await check.verify(jwks.token("k1"))
    fetches = jwks.fetches
    await check.verify(jwks.token("k1"))
    assert jwks.fetches == fetches  # the key set is cached

    # The provider rotates: k2 appears, k1 is retired. The same verifier, no restart.
    jwks.add_key("k2")
    retired = jwks.keys.pop("k1")
    user = await check.verify(jwks.token("k2"))
    assert user.id == "jwt:carol"
    assert jwks.fetches == fetches + 1  # the unknown kid made it fetch once

    # A token signed by the retired key is refused once the cache no longer holds it.
    check_fresh = verifier(jwks)
    with pytest.raises(AuthError):
        await check_fresh.verify(jwks.token("k1", key=retired))


async def test_an_unknown_kid_is_refused_and_cannot_force_a_fetch_storm(jwks: JwksServer) -> None:
    jwks.add_key("k1")
    check = verifier(jwks, cooldown=60)
    await check.verify(jwks.token("k1"))
    fetches = jwks.fetches
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for attempt in range(20):
        with pytest.raises(AuthError, match="not valid"):
            await check.verify(jwks.token(f"made-up-{attempt}", key=stranger))
    assert jwks.fetches <= fetches + 1


async def test_a_token_with_a_known_kid_but_a_forged_signature_is_refused(jwks: JwksServer) -> None:
    jwks.add_key("k1")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthError, match="not valid"):
        await verifier(jwks).verify(jwks.token("k1", key=stranger))


async def test_wrong_issuer_audience_and_expiry_are_refused(jwks: JwksServer) -> None:
    jwks.add_key("k1")
    check = verifier(jwks)
    with pytest.raises(AuthError, match="issuer"):
        await check.verify(jwks.token("k1", iss="https://other.example.test/"))
    with pytest.raises(AuthError, match="audience"):
        await check.verify(jwks.token("k1", aud="other-app"))
    with pytest.raises(AuthError, match="expired"):
        await check.verify(jwks.token("k1", exp=int(time.time()) - 600))


async def test_an_unreachable_key_endpoint_is_named_as_such() -> None:
    server = JwksServer()
    server.add_key("k1")
    token = server.token("k1")
    check = verifier(server)
    server.close()
    with pytest.raises(AuthError, match="could not be fetched"):
        await check.verify(token)
