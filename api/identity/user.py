"""Who a request is: the typed result of every identity mode, and the one refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthMode = Literal["anonymous", "jwt", "proxy"]


@dataclass(frozen=True)
class User:
    """A person (or, in anonymous mode, a browser), as every route and frame will see it.

    `id` is stable and namespaced by how it was proven (`device:`, `jwt:`, `proxy:`), so an
    identity of one mode can never be mistaken for one of another.
    """

    id: str
    display_name: str
    mode: AuthMode


class AuthError(Exception):
    """The request proves no identity. The message is safe to show: it never quotes a token."""
