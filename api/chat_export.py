"""`GET /api/chats/{chat_id}/export`: a chat, or one conversation of it, as a download."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Response
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError

from agents.catalog import AgentType
from api import errors
from api.chat_ownership import OwnedChat
from api.deps import Edge, EdgeState
from foundations.clients import communication_foundation
from foundations.communication import Conversation
from workflows.session_payloads import session_workflow_id

router = APIRouter(prefix="/api/chats", tags=["chats"])

# The chat list's title (kept by the session workflow); a chat without one is "Chat".
TITLE_ATTRIBUTE = SearchAttributeKey.for_text("ChatTitle")
UNTITLED = "Chat"


class ExportFormat(StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"


def author(message: dict[str, Any]) -> str:
    """Who wrote a message, as the page names them."""
    if message["role"] == "user":
        return "You"
    if message["role"] == "error":
        return "Not answered"
    return AgentType(message["agent_type"]).value.replace("_", " ").capitalize()


def markdown(title: str, conversations: dict[AgentType, list[dict[str, Any]]]) -> str:
    """The conversations as Markdown: a section each, every message in order, verbatim."""
    lines = [f"# {title}", ""]
    for conversation, messages in conversations.items():
        lines += [f"## {conversation.value.replace('_', ' ').capitalize()}", ""]
        for message in messages:
            stopped = " (stopped)" if message.get("cancelled") else ""
            lines += [f"**{author(message)}** · {message['timestamp']}{stopped}", ""]
            lines += [message["content"], ""]
    return "\n".join(lines)


async def chat_title(edge: EdgeState, chat_id: str) -> str:
    try:
        described = await edge.temporal.get_workflow_handle(session_workflow_id(chat_id)).describe()
    except RPCError:  # no workflow (it never ran, or its history expired): untitled
        return UNTITLED
    return described.typed_search_attributes.get(TITLE_ATTRIBUTE) or UNTITLED


async def conversation_messages(
    edge: EdgeState, chat_id: str, conversation: AgentType | None
) -> dict[AgentType, list[dict[str, Any]]]:
    """The recorded history of one conversation, or of every conversation that has one."""
    communication = communication_foundation(edge.redis, edge.settings)
    wanted = [conversation] if conversation is not None else list(AgentType)
    found = {
        agent: await communication.history(
            Conversation(chat_id, agent), edge.settings.history_max_messages
        )
        for agent in wanted
    }
    return {agent: messages for agent, messages in found.items() if messages or conversation}


_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The chat as a download, in the format asked for.",
        "content": {"text/markdown": {"schema": {"type": "string"}}, "application/json": {}},
    }
}


@router.get(
    "/{chat_id}/export",
    response_class=Response,
    responses={**_DOWNLOAD, **errors.responses(401, 404, 503)},
)
async def export_chat(
    chat_id: OwnedChat,
    edge: Edge,
    format: ExportFormat = ExportFormat.MARKDOWN,
    conversation: AgentType | None = None,
) -> Response:
    """The whole chat, or one conversation (`conversation`), as Markdown or JSON."""
    title = await chat_title(edge, chat_id)
    conversations = await conversation_messages(edge, chat_id, conversation)
    name = f"chat-{chat_id}" + (f"-{conversation.value}" if conversation else "")
    if format is ExportFormat.MARKDOWN:
        body, media_type, name = markdown(title, conversations), "text/markdown", name + ".md"
    else:
        document = {
            "chat_id": chat_id,
            "title": title,
            "exported_at": datetime.now(UTC).isoformat(),
            "conversations": [
                {"conversation": agent.value, "messages": messages}
                for agent, messages in conversations.items()
            ],
        }
        body, media_type, name = (
            json.dumps(document, ensure_ascii=False),
            "application/json",
            (name + ".json"),
        )
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
