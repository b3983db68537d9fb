"""jwt mode: bearer tokens from an identity provider, verified with PyJWT.

Checked: the signature (with a key from the JWKS URL, or the configured public key), `exp`
(required), `nbf` and `iat` when present, the issuer and the audience. Only the configured
asymmetric algorithms are accepted, and the key decides: a token whose header names another
algorithm, `none` or an HMAC one, is refused before its signature is looked at.

Keys come from the JWKS URL through PyJWT's `PyJWKClient`: the key set is cached for
`JWT_JWKS_CACHE_SECONDS`, and a token naming a key id the cache lacks makes it fetch the set
again (at most once per `JWT_JWKS_REFRESH_COOLDOWN_SECONDS`, so a flood of made-up key ids
cannot turn into a flood of fetches). That is how a rotated key is picked up without a
restart. The fetch is blocking I/O, so it runs in a thread.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt import PyJWKClient

from api.identity.user import AuthError, User
from foundations.settings import Settings

# A subject is an id, not prose: printable ASCII without spaces, as the user id embeds it.
_SUBJECT = re.compile(r"[\x21-\x7e]{1,255}")
_NAME_CLAIMS = ("name", "preferred_username", "email")


class BearerVerifier:
    """Verifies a JWT and names its user."""

    def __init__(self, settings: Settings) -> None:
        self._algorithms = list(settings.jwt_algorithms)
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._jwks: PyJWKClient | None = None
        self._public_key: Any = None
        if settings.jwt_jwks_url:
            self._jwks = PyJWKClient(
                settings.jwt_jwks_url,
                cache_jwk_set=True,
                lifespan=settings.jwt_jwks_cache_seconds,
                cooldown_duration=settings.jwt_jwks_refresh_cooldown_seconds,
                timeout=5,
            )
        else:
            self._public_key = _public_key(settings.jwt_public_key)
            # A configured key verifies only its own family: an ES256 token must not reach
            # an RSA key (PyJWT would fail on the key type, not refuse the token).
            family = _family(self._public_key)
            self._algorithms = [a for a in self._algorithms if a.startswith(family)]
            if not self._algorithms:
                raise ValueError(
                    f"JWT_ALGORITHMS {settings.jwt_algorithms} has none for JWT_PUBLIC_KEY's "
                    f"kind of key ({'/'.join(family)}*)"
                )

    async def verify(self, token: str) -> User:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise AuthError("the bearer token is not a JWT") from error
        if header.get("alg") not in self._algorithms:
            raise AuthError("the bearer token is signed with an algorithm this service refuses")
        try:
            key = await self._key(token)
            claims = jwt.decode(
                token,
                key=key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise AuthError("the bearer token has expired") from error
        except jwt.InvalidIssuerError as error:
            raise AuthError("the bearer token is from another issuer") from error
        except jwt.InvalidAudienceError as error:
            raise AuthError("the bearer token is meant for another audience") from error
        except jwt.PyJWKClientConnectionError as error:
            # The provider is unreachable: say so rather than blame the token.
            raise AuthError("the identity provider's keys could not be fetched") from error
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
            raise AuthError("the bearer token is not valid") from error
        return _user(claims)

    async def _key(self, token: str) -> Any:
        if self._jwks is None:
            return self._public_key
        jwks = self._jwks
        return await asyncio.to_thread(jwks.get_signing_key_from_jwt, token)


def _user(claims: dict[str, Any]) -> User:
    subject = claims["sub"]
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise AuthError("the bearer token's subject is not a usable id")
    name = next((claims[c] for c in _NAME_CLAIMS if isinstance(claims.get(c), str)), subject)
    return User(id=f"jwt:{subject}", display_name=name[:200], mode="jwt")


def _family(key: Any) -> tuple[str, ...]:
    """The algorithm name prefixes a public key can verify."""
    if isinstance(key, rsa.RSAPublicKey):
        return ("RS", "PS")
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ("ES",)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return ("EdDSA",)
    raise ValueError("JWT_PUBLIC_KEY must be an RSA, EC or Ed25519/Ed448 public key")


def _public_key(pem: str) -> Any:
    try:
        return serialization.load_pem_public_key(pem.encode())
    except ValueError as error:
        raise ValueError("JWT_PUBLIC_KEY is not a PEM public key") from error
