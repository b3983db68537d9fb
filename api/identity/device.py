"""Anonymous mode: a long-lived device identity the API issues and alone can verify.

A device token is `dev1.<device id>.<signature>`: 128 random bits of id and an HMAC-SHA256
over it with the identity secret, so ids cannot be guessed and tokens cannot be forged. The
browser keeps the token and sends it as `Authorization: Bearer ...`; nothing about it is
stored server-side, so verifying costs no Redis call. Rotating the secret voids every device.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import redis.asyncio as redis

from api.identity.user import AuthError, User
from foundations.settings import Settings

PREFIX = "dev1"
_TOKEN = re.compile(r"dev1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
# The generated development secret, shared by every API process through Redis.
GENERATED_SECRET_KEY = "identity:secret"
# Keeps a device signature from ever being valid as some other signed thing.
_PURPOSE = b"device-identity\x00"


def device_user_id(device_id: str) -> str:
    return f"device:{device_id}"


class DeviceIdentities:
    """Issues and verifies device tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self) -> tuple[str, User]:
        """A new device: its token (for the browser to keep) and its user."""
        device_id = secrets.token_urlsafe(16)
        return f"{PREFIX}.{device_id}.{self._sign(device_id)}", _user(device_id)

    def verify(self, token: str) -> User:
        match = _TOKEN.fullmatch(token)
        if match is None or not hmac.compare_digest(match[2], self._sign(match[1])):
            raise AuthError("the device identity is not one this service issued")
        return _user(match[1])

    def _sign(self, device_id: str) -> str:
        digest = hmac.new(self._secret, _PURPOSE + device_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _user(device_id: str) -> User:
    return User(id=device_user_id(device_id), display_name="Guest", mode="anonymous")


async def identity_secret(settings: Settings, redis_client: redis.Redis) -> bytes:
    """IDENTITY_SECRET, or for development one generated once and kept in Redis."""
    configured = settings.identity_secret.get_secret_value()
    if configured:
        return configured.encode()
    await redis_client.set(GENERATED_SECRET_KEY, secrets.token_hex(32), nx=True)
    generated = await redis_client.get(GENERATED_SECRET_KEY)
    if generated is None:  # only if something deletes it between the two calls
        raise RuntimeError(f"{GENERATED_SECRET_KEY} vanished from Redis")
    return generated.encode() if isinstance(generated, str) else bytes(generated)
