"""The chat list: a user's chats, a new chat, a token to open one, a rename.

A chat is a session workflow (`chat_id` is its session id). The list is read from Temporal
visibility, the session workflows' search attributes (`ChatUserId`, `ChatTitle`,
`ChatLastActivity`, `ChatAgentTypes`), not from a store of its own. Visibility lags the
workflows by a moment, so a create or rename answers with the chat as it now is, and the page
merges that into the list it shows (docs/architecture.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, BaseModel, Field
from temporalio.client import WorkflowExecution
from temporalio.service import RPCError

from agents.catalog import AgentType
from api import errors
from api.agent_sdk import Caller
from api.chat_ownership import chat_records
from api.client_address import client_key, trusted_networks
from api.deps import Edge, SignedIn
from api.errors import SUBMIT_ERRORS, EdgeError, refusal
from api.frames import PlainText
from foundations.communication import event_id_key
from foundations.errors import ErrorCode
from workflows.session_payloads import (
    AGENT_TYPES_ATTRIBUTE,
    LAST_ACTIVITY_ATTRIBUTE,
    MAX_TITLE_CHARS,
    SESSION_ID_ATTRIBUTE,
    TITLE_ATTRIBUTE,
    USER_ID_ATTRIBUTE,
)

router = APIRouter(prefix="/api/chats", tags=["chats"])

# Runs read from visibility per listing: a chat has one per continue-as-new or idle restart.
MAX_LISTED_RUNS = 5000
PREVIEW_CHARS = 160
# A page's end: the last chat's activity (microseconds) and id. Opaque to clients.
CURSOR_PATTERN = r"^[0-9]{1,20}-[0-9a-f]{24}$"


class ChatSummary(BaseModel):
    chat_id: str
    # Empty until the first message titles the chat.
    title: str
    last_activity: datetime
    pillars: list[str]
    preview: str


class ChatPage(BaseModel):
    chats: list[ChatSummary]
    # Pass back as `cursor` for the next (older) page; null on the last.
    next_cursor: str | None


class ChatToken(BaseModel):
    """Open the chat with this token (as `session_token`, or by `chat_id` with a ticket)."""

    session_token: str
    expires_at: float


class NewChat(ChatToken):
    chat: ChatSummary


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("the title is empty")
    return value.strip()


class RenameChat(BaseModel):
    title: Annotated[
        PlainText,
        Field(min_length=1, max_length=MAX_TITLE_CHARS, pattern=r"\S"),
        AfterValidator(_not_blank),
    ]


_CHAT = errors.responses(401, 404, 503)


@router.get("", responses=errors.responses(401, 503))
async def list_chats(
    edge: Edge,
    caller: SignedIn,
    limit: int = Query(default=20, ge=1, le=100),
    cursor: str | None = Query(
        default=None, pattern=CURSOR_PATTERN, description="a next_cursor of an earlier page"
    ),
    q: str | None = Query(default=None, max_length=200, description="words of the title"),
) -> ChatPage:
    """The caller's chats (and their claimed devices'), newest activity first."""
    chats = sorted(await _chats(edge, caller), key=_order, reverse=True)
    # A chat being deleted answers 404 everywhere; visibility lists it until its runs are gone.
    records = chat_records(edge)
    chats = [c for c in chats if not await records.is_deleting(c.chat_id)]
    if q:
        words = q.casefold().split()
        chats = [c for c in chats if all(w in c.title.casefold() for w in words)]
    if cursor is not None:
        after = _decode_cursor(cursor)
        chats = [c for c in chats if _order(c) < after]
    page = chats[:limit]
    for chat in page:
        chat.preview = await _preview(edge, chat)
    more = len(chats) > limit
    return ChatPage(chats=page, next_cursor=_encode_cursor(_order(page[-1])) if more else None)


@router.post("", status_code=201, responses=errors.responses(401, 429, 503))
async def create_chat(edge: Edge, caller: SignedIn, request: Request) -> NewChat:
    """A new chat beside the caller's others, and the token that opens it."""
    peer = request.client.host if request.client else None
    client = client_key(peer, request.headers, trusted_networks(edge.settings.trusted_proxies))
    refused = await edge.admission.new_session(client)
    if refused is not None:
        raise EdgeError(refused.code, refused.message, refused.retry_after)
    grant = await edge.sdk.create_chat(caller)
    session = grant.record
    return NewChat(
        chat=ChatSummary(
            chat_id=session.session_id,
            title="",
            last_activity=datetime.now(UTC),
            pillars=[],
            preview="",
        ),
        session_token=grant.token,
        expires_at=session.expires_at,
    )


@router.post("/{chat_id}/token", responses=_CHAT)
async def chat_token(chat_id: str, edge: Edge, caller: SignedIn) -> ChatToken:
    """A token to open one of the caller's chats, on this device or another."""
    record, token = await edge.sdk.chat_token(chat_id, caller)
    return ChatToken(session_token=token, expires_at=record.expires_at)


@router.patch("/{chat_id}", responses=errors.responses(400, 401, 404, 503))
async def rename_chat(chat_id: str, body: RenameChat, edge: Edge, caller: SignedIn) -> ChatSummary:
    """Give the chat a title; its messages no longer title it."""
    try:
        described = await edge.sdk.rename_chat(chat_id, caller, body.title)
    except SUBMIT_ERRORS as error:
        raise refusal(error) from None
    summary = _summary(described)
    assert summary is not None
    summary.preview = await _preview(edge, summary)
    return summary


async def _chats(edge: Edge, caller: Caller) -> list[ChatSummary]:
    """The caller's chats from visibility, one per chat whatever its number of runs."""
    owners = ", ".join(_quoted(owner) for owner in sorted(caller.owner_ids))
    runs: dict[str, list[ChatSummary]] = {}
    try:
        async for execution in edge.temporal.list_workflows(
            f"{USER_ID_ATTRIBUTE.name} IN ({owners})", limit=MAX_LISTED_RUNS
        ):
            # The query names the owners; this makes sure of it, whatever an id holds.
            if execution.typed_search_attributes.get(USER_ID_ATTRIBUTE) in caller.owner_ids:
                run = _summary(execution)
                if run is not None:
                    runs.setdefault(run.chat_id, []).append(run)
    except RPCError as error:
        raise EdgeError(ErrorCode.UNAVAILABLE, "The chat list cannot be read; try again.") from (
            error
        )
    return [_merged(chat_runs) for chat_runs in runs.values()]


def _summary(execution: WorkflowExecution) -> ChatSummary | None:
    attributes = execution.typed_search_attributes
    chat_id = attributes.get(SESSION_ID_ATTRIBUTE)
    if chat_id is None:
        return None
    pillars = []
    for value in attributes.get(AGENT_TYPES_ATTRIBUTE) or []:
        try:
            pillar = AgentType(value).pillar
        except ValueError:  # an agent type this release no longer has
            continue
        if pillar is not None and pillar.value not in pillars:
            pillars.append(pillar.value)
    return ChatSummary(
        chat_id=chat_id,
        title=attributes.get(TITLE_ATTRIBUTE) or "",
        last_activity=attributes.get(LAST_ACTIVITY_ATTRIBUTE) or execution.start_time,
        pillars=pillars,
        preview="",
    )


def _merged(runs: list[ChatSummary]) -> ChatSummary:
    """One chat from its runs: the newest title, the latest activity, every pillar."""
    runs.sort(key=lambda run: run.last_activity)
    newest = runs[-1]
    titled = [run.title for run in runs if run.title]
    pillars = list(dict.fromkeys(p for run in runs for p in run.pillars))
    return ChatSummary(
        chat_id=newest.chat_id,
        title=titled[-1] if titled else "",
        last_activity=newest.last_activity,
        pillars=pillars,
        preview="",
    )


async def _preview(edge: Edge, chat: ChatSummary) -> str:
    """The chat's latest message, from whichever of its conversations spoke last."""
    latest: tuple[tuple[int, int], str] | None = None
    for agent_type in _conversations(chat):
        snapshot = await edge.sdk.history(chat.chat_id, agent_type, 1)
        if snapshot.messages:
            key = event_id_key(snapshot.event_id)
            if latest is None or key > latest[0]:
                latest = (key, str(snapshot.messages[-1].get("content", "")))
    return latest[1][:PREVIEW_CHARS] if latest else ""


def _conversations(chat: ChatSummary) -> list[AgentType]:
    return [AgentType.GUIDE, *(a for a in AgentType if a.pillar and a.pillar.value in chat.pillars)]


def _order(chat: ChatSummary) -> tuple[int, str]:
    """Where a chat stands in the list: its last activity (in microseconds), then its id."""
    return (round(chat.last_activity.timestamp() * 1_000_000), chat.chat_id)


def _encode_cursor(position: tuple[int, str]) -> str:
    return f"{position[0]}-{position[1]}"


def _decode_cursor(cursor: str) -> tuple[int, str]:
    # The pattern of the query parameter admitted only what this splits.
    activity, _, chat_id = cursor.partition("-")
    return int(activity), chat_id


def _quoted(value: str) -> str:
    """A string literal of Temporal's visibility query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
