"""Whose chat is it: the one check every chat route makes before anything else.

A chat belongs to the user its session was started for (`ChatUserId`), or to the account that
claimed that device (foundations/device_claims.py). Anyone else, and everyone once the chat is
being deleted, gets the same 404 as for a chat that never existed: a refusal must not tell a
stranger that the chat is there.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Path
from temporalio.service import RPCError, RPCStatusCode

from api.agent_sdk import NO_SUCH_CHAT
from api.deps import Edge, EdgeState
from api.errors import EdgeError
from api.identity import CurrentUser, User
from foundations.chat_records import ChatRecords
from foundations.device_claims import DeviceClaims
from foundations.errors import ErrorCode
from foundations.sessions import SessionStore
from workflows.session_payloads import USER_ID_ATTRIBUTE, session_workflow_id

# Session ids are hex; anything else names no chat (and never reaches a Redis pattern).
CHAT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

ChatIdPath = Annotated[str, Path(max_length=64, pattern=CHAT_ID.pattern)]


def chat_not_found() -> EdgeError:
    """The same answer as the session routes give (`ChatNotFound`, api/agent_sdk.py)."""
    return EdgeError(ErrorCode.CHAT_NOT_FOUND, NO_SUCH_CHAT)


def chat_records(edge: EdgeState) -> ChatRecords:
    return ChatRecords(edge.redis, edge.settings.session_ttl_seconds)


async def chat_owner(edge: EdgeState, chat_id: str) -> str | None:
    """The user id the chat was started for; None for no chat (or one being deleted)."""
    if not CHAT_ID.match(chat_id) or await chat_records(edge).is_deleting(chat_id):
        return None
    record = await SessionStore(edge.redis, edge.settings.session_ttl_seconds).get(chat_id)
    if record is not None:
        return record.user_id
    # The session record expired with the session; the workflow's visibility outlives it.
    try:
        described = await edge.temporal.get_workflow_handle(session_workflow_id(chat_id)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return described.typed_search_attributes.get(USER_ID_ATTRIBUTE)


async def check_owner(edge: EdgeState, user: User, chat_id: str) -> None:
    """Raises the 404 unless `user` owns the chat."""
    owner = await chat_owner(edge, chat_id)
    if owner is None or owner not in await DeviceClaims(edge.redis).owner_ids(user.id):
        raise chat_not_found()


async def _owned_chat(chat_id: ChatIdPath, user: CurrentUser, edge: Edge) -> str:
    await check_owner(edge, user, chat_id)
    return chat_id


# A route's `chat_id` path parameter, checked to be the caller's chat.
OwnedChat = Annotated[str, Depends(_owned_chat)]
