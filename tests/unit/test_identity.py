"""Identity modes without a network: device tokens, JWTs against a configured key, proxy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from api.identity import Authenticator, AuthError
from api.identity.bearer import BearerVerifier
from api.identity.device import DeviceIdentities
from api.identity.proxy import ProxyIdentity
from foundations.settings import Settings

ISSUER = "https://id.example.test/"
AUDIENCE = "agent-chat"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def jwt_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_mode": "jwt",
        "jwt_public_key": PUBLIC_PEM,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        **overrides,
    }
    return Settings(**values)


def token(key: Any = RSA_KEY, algorithm: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "iat": now}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=algorithm)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Device identities (anonymous mode)


def test_a_device_token_verifies_to_the_same_user_every_time() -> None:
    devices = DeviceIdentities(b"s" * 32)
    token_, user = devices.issue()
    assert devices.verify(token_) == user
    assert user.id.startswith("device:") and user.mode == "anonymous"


def test_device_tokens_are_distinct() -> None:
    devices = DeviceIdentities(b"s" * 32)
    assert devices.issue()[1].id != devices.issue()[1].id


def test_a_forged_or_altered_device_token_is_refused() -> None:
    devices = DeviceIdentities(b"s" * 32)
    issued, _ = devices.issue()
    prefix, device_id, signature = issued.split(".")
    other_id = ("A" if device_id[0] != "A" else "B") + device_id[1:]
    forged = [
        f"{prefix}.{other_id}.{signature}",  # someone else's id, this signature
        DeviceIdentities(b"t" * 32).issue()[0],  # signed with another secret
        f"{prefix}.{device_id}.{signature[:-1]}",
        f"{prefix}.{device_id}",
        "",
        "dev1.é" * 10,
    ]
    for candidate in forged:
        with pytest.raises(AuthError):
            devices.verify(candidate)


async def test_anonymous_mode_wants_a_bearer_device_token() -> None:
    settings = Settings()
    devices = DeviceIdentities(b"s" * 32)
    authenticator = Authenticator(settings, devices, None, None)  # type: ignore[arg-type]
    issued, user = devices.issue()
    assert (
        await authenticator.authenticate("1.2.3.4", {"authorization": f"Bearer {issued}"}) == user
    )
    with pytest.raises(AuthError, match="Authorization: Bearer"):
        await authenticator.authenticate("1.2.3.4", {})


# JWTs against a configured public key


async def test_a_valid_jwt_names_its_subject() -> None:
    user = await BearerVerifier(jwt_settings()).verify(token(name="Alice A."))
    assert (user.id, user.display_name, user.mode) == ("jwt:alice", "Alice A.", "jwt")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (lambda: token(exp=int(time.time()) - 3600), "expired"),
        (lambda: token(iss="https://evil.example.test/"), "another issuer"),
        (lambda: token(aud="someone-else"), "another audience"),
        (lambda: token(exp=None), "not valid"),  # exp is required
        (
            lambda: token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "not valid",
        ),
        (lambda: token(sub=None), "not valid"),
        (lambda: "not.a.jwt", "not a JWT"),
    ],
)
async def test_bad_jwts_are_refused(bad: Any, reason: str) -> None:
    with pytest.raises(AuthError, match=reason):
        await BearerVerifier(jwt_settings()).verify(bad())


async def test_an_unsigned_token_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    claims = jwt.decode(token(), options={"verify_signature": False})
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}."
    with pytest.raises(AuthError, match="algorithm"):
        await BearerVerifier(jwt_settings()).verify(unsigned)


async def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused() -> None:
    # The classic RS/HS confusion: the attacker knows the public key.
    claims = jwt.decode(token(), options={"verify_signature": False})
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(PUBLIC_PEM.encode(), f"{header}.{body}".encode(), hashlib.sha256)
    forged = f"{header}.{body}.{_b64(signature.digest())}"
    with pytest.raises(AuthError, match="algorithm"):
        await BearerVerifier(jwt_settings()).verify(forged)


async def test_an_allowed_algorithm_with_the_wrong_kind_of_key_is_refused() -> None:
    es_token = token(key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    with pytest.raises(AuthError, match="algorithm"):
        await BearerVerifier(jwt_settings()).verify(es_token)


def test_a_public_key_that_no_allowed_algorithm_fits_is_named_at_start() -> None:
    with pytest.raises(ValueError, match="JWT_ALGORITHMS"):
        BearerVerifier(jwt_settings(jwt_algorithms=["ES256"]))
    with pytest.raises(ValueError, match="JWT_PUBLIC_KEY"):
        BearerVerifier(jwt_settings(jwt_public_key="not a key"))


def test_jwt_mode_refuses_hmac_or_none_in_its_algorithm_list() -> None:
    for algorithms in (["HS256"], ["none"], ["RS256", "HS512"], []):
        with pytest.raises(ValidationError, match="JWT_ALGORITHMS"):
            jwt_settings(jwt_algorithms=algorithms)


def test_jwt_mode_needs_keys_issuer_and_audience() -> None:
    with pytest.raises(ValidationError, match="JWT_JWKS_URL"):
        jwt_settings(jwt_public_key="")
    with pytest.raises(ValidationError, match="JWT_ISSUER"):
        jwt_settings(jwt_issuer="")


# proxy mode


def proxy_settings() -> Settings:
    return Settings(auth_mode="proxy", auth_proxies=["10.0.0.0/8", "::1"])


def test_the_proxy_header_is_honoured_from_a_trusted_proxy() -> None:
    headers = {"x-forwarded-user": "bob", "x-forwarded-email": "bob@example.test"}
    user = ProxyIdentity(proxy_settings()).user("10.1.2.3", headers)
    assert (user.id, user.display_name, user.mode) == ("proxy:bob", "bob@example.test", "proxy")
    assert ProxyIdentity(proxy_settings()).user("::1", headers).id == "proxy:bob"


def test_the_proxy_header_is_refused_from_anyone_else() -> None:
    headers = {"x-forwarded-user": "bob", "x-forwarded-for": "10.1.2.3"}
    for peer in ("192.168.1.5", "11.0.0.1", None, "garbage"):
        with pytest.raises(AuthError, match="only from the sign-in proxy"):
            ProxyIdentity(proxy_settings()).user(peer, headers)


def test_a_trusted_proxy_that_names_no_user_is_refused() -> None:
    for headers in ({}, {"x-forwarded-user": ""}, {"x-forwarded-user": "two words"}):
        with pytest.raises(AuthError, match="named no user"):
            ProxyIdentity(proxy_settings()).user("10.0.0.1", headers)


def test_proxy_mode_needs_its_proxies() -> None:
    with pytest.raises(ValidationError, match="AUTH_PROXIES"):
        Settings(auth_mode="proxy")
    with pytest.raises(ValidationError):
        Settings(auth_mode="proxy", auth_proxies=["not-an-address"])
