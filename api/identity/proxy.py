"""proxy mode: the user named by a header an SSO proxy (oauth2-proxy and the like) sets.

The header is believed only when the TCP peer itself is one of `AUTH_PROXIES`: anyone else
could send it too. The peer must be the TCP peer: uvicorn runs with `proxy_headers` off
(api/__main__.py), since with it on uvicorn would replace the peer with what
`X-Forwarded-For` claims, and a client could then pose as the proxy. Forwarding headers do not count here: a client cannot vouch for itself by
claiming to have come through a proxy. The proxy must strip the header from what clients send
(oauth2-proxy does), or a client could name any user through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from api.client_address import Network, peer_is_trusted, trusted_networks
from api.identity.user import AuthError, User
from foundations.settings import Settings

_USER = re.compile(r"[\x21-\x7e]{1,255}")


class ProxyIdentity:
    """Reads the trusted proxy's user header."""

    def __init__(self, settings: Settings) -> None:
        self._proxies: list[Network] = trusted_networks(settings.auth_proxies)
        self._user_header = settings.auth_proxy_user_header.lower()
        self._email_header = settings.auth_proxy_email_header.lower()

    def user(self, peer: str | None, headers: Mapping[str, str]) -> User:
        if not peer_is_trusted(peer, self._proxies):
            raise AuthError("sign-in headers are accepted only from the sign-in proxy")
        name = headers.get(self._user_header, "").strip()
        if not _USER.fullmatch(name):
            raise AuthError("the sign-in proxy named no user")
        email = headers.get(self._email_header, "").strip()
        return User(id=f"proxy:{name}", display_name=(email or name)[:200], mode="proxy")
