"""Share links (foundations/share_links.py): made, listed and revoked by the chat's owner;
opened by anyone who has the link, read-only, one conversation, until revoked or expired."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from agents.catalog import AgentType
from api import errors
from api.chat_export import chat_title, conversation_messages
from api.chat_ownership import OwnedChat, chat_owner, check_owner
from api.deps import Edge, EdgeState
from api.errors import EdgeError
from api.identity import CurrentUser
from foundations.errors import ErrorCode
from foundations.share_links import ShareLink, ShareLinks

router = APIRouter(prefix="/api", tags=["shares"])

ShareIdPath = Annotated[str, Path(max_length=64)]
# The shortest link worth making.
MIN_SHARE_SECONDS = 60


class CreateShare(BaseModel):
    conversation: AgentType
    # At most SHARE_MAX_SECONDS (30 days by default).
    expires_in_seconds: int = Field(ge=MIN_SHARE_SECONDS)


class Share(BaseModel):
    share_id: str
    # The page that shows the shared conversation.
    url: str
    conversation: AgentType
    expires_at: str


class ShareList(BaseModel):
    shares: list[Share]


class SharedConversation(BaseModel):
    conversation: AgentType
    title: str
    messages: list[dict[str, Any]]
    expires_at: str


def _links(edge: EdgeState) -> ShareLinks:
    return ShareLinks(edge.redis, edge.settings.max_shares_per_chat)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _share(request: Request, link: ShareLink) -> Share:
    return Share(
        share_id=link.share_id,
        url=str(request.base_url.replace(path=f"/share/{link.share_id}")),
        conversation=AgentType(link.conversation),
        expires_at=_iso(link.expires_at),
    )


def _share_not_found() -> EdgeError:
    return EdgeError(ErrorCode.NOT_FOUND, "This share link was revoked, has expired or never was.")


@router.post(
    "/chats/{chat_id}/shares", status_code=201, responses=errors.responses(400, 401, 404, 409, 503)
)
async def create_share(
    chat_id: OwnedChat, body: CreateShare, edge: Edge, user: CurrentUser, request: Request
) -> Share:
    """A link that shows one conversation of the chat, read-only, to whoever has it."""
    limit = edge.settings.share_max_seconds
    if body.expires_in_seconds > limit:
        raise EdgeError(
            ErrorCode.INVALID_REQUEST, f"expires_in_seconds: a share link lives at most {limit} s."
        )
    link = await _links(edge).create(
        chat_id, body.conversation.value, user.id, body.expires_in_seconds
    )
    return _share(request, link)


@router.get("/chats/{chat_id}/shares", responses=errors.responses(401, 404, 503))
async def list_shares(chat_id: OwnedChat, edge: Edge, request: Request) -> ShareList:
    """The chat's live share links, soonest to expire first."""
    return ShareList(shares=[_share(request, link) for link in await _links(edge).of_chat(chat_id)])


@router.delete("/shares/{share_id}", status_code=204, responses=errors.responses(401, 404, 503))
async def revoke_share(share_id: ShareIdPath, edge: Edge, user: CurrentUser) -> Response:
    """Revoke a link of one of the caller's chats: it opens nothing from now on."""
    link = await _links(edge).get(share_id)
    if link is None:
        raise _share_not_found()
    await check_owner(edge, user, link.chat_id)
    await _links(edge).revoke(link)
    return Response(status_code=204)


@router.get("/shares/{share_id}", responses=errors.responses(404, 503))
async def open_share(share_id: ShareIdPath, edge: Edge) -> SharedConversation:
    """The shared conversation; needs no identity, only the link."""
    link = await _links(edge).get(share_id)
    # A deleted chat's links are deleted with it; until then, the chat not found hides them.
    if link is None or await chat_owner(edge, link.chat_id) is None:
        raise _share_not_found()
    conversation = AgentType(link.conversation)
    messages = await conversation_messages(edge, link.chat_id, conversation)
    return SharedConversation(
        conversation=conversation,
        title=await chat_title(edge, link.chat_id),
        messages=messages[conversation],
        expires_at=_iso(link.expires_at),
    )
