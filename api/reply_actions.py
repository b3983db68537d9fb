"""What a user does to a reply or message after it was sent: rate it, regenerate it, edit it.

Driven by the WebSocket frames `feedback`, `regenerate`, `edit_message` and by
`PUT /api/chat/feedback`; each checks what the client names against the conversation's
history, so a refusal says what was wrong before anything reaches the workflow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.catalog import AgentType
from api.agent_sdk import AgentConnection, AgentWebSocketSDK, MessageRefused
from api.frames import EditMessageFrame, Feedback, RegenerateFrame
from foundations import metrics
from foundations.communication import CommunicationFoundation, Conversation
from foundations.errors import ErrorCode
from foundations.feedback import FeedbackStore, ReplyFeedback
from foundations.server_events import FeedbackRecorded
from foundations.sessions import SessionRecord
from workflows.chat_session import ChatSessionWorkflow, SubmitMessageResult
from workflows.session_payloads import EditMessageInput, RegenerateInput

# How far back a regenerate looks for the conversation's latest reply.
_LATEST_WINDOW = 50


async def _entry(
    communication: CommunicationFoundation, conversation: Conversation, message_id: str, role: str
) -> dict[str, Any]:
    entry = await communication.entry(conversation, message_id)
    if entry is None or entry.get("role") != role:
        kind = "reply" if role == "assistant" else "user message"
        raise MessageRefused(
            ErrorCode.UNKNOWN_MESSAGE, f"message_id names no {kind} of this conversation."
        )
    return entry


async def give_feedback(
    communication: CommunicationFoundation,
    store: FeedbackStore,
    session: SessionRecord,
    conversation: Conversation,
    feedback: Feedback,
) -> FeedbackRecorded:
    """Store the user's rating of a reply (the latest one counts) and tell every tab."""
    reply = await _entry(communication, conversation, feedback.message_id, "assistant")
    asked = await communication.entry(conversation, reply.get("in_reply_to") or "")
    rating = ReplyFeedback(
        session_id=session.session_id,
        user_id=session.user_id,
        message_id=feedback.message_id,
        in_reply_to=reply.get("in_reply_to") or "",
        rating=feedback.rating,
        conversation=conversation.agent_type,
        author=AgentType(reply["agent_type"]),
        given_at=datetime.now(UTC).isoformat(),
        reasons=list(feedback.reasons),
        comment=feedback.comment,
        capability=reply.get("capability"),
        provider=reply.get("provider"),
        message=str(asked["content"]) if asked else "",
    )
    change = await store.give(rating)
    metrics.feedback_given(feedback.rating, change)
    recorded = FeedbackRecorded(
        agent_type=conversation.agent_type,
        message_id=feedback.message_id,
        rating=feedback.rating,
    )
    await communication.publish(conversation, recorded)
    return recorded


async def regenerate(
    sdk: AgentWebSocketSDK,
    communication: CommunicationFoundation,
    connection: AgentConnection,
    frame: RegenerateFrame,
) -> SubmitMessageResult:
    """Answer the latest reply's message again; a repeat of the same click runs once."""
    conversation = connection.conversation
    reply = await _entry(communication, conversation, frame.message_id, "assistant")
    recent = await communication.history(conversation, _LATEST_WINDOW)
    latest = next((m for m in reversed(recent) if m.get("role") != "user"), None)
    # A double click may arrive after the first click's reply was recorded: the workflow
    # then answers it as the duplicate it is.
    if latest is None or frame.message_id not in (
        latest.get("message_id"),
        latest.get("regenerates"),
    ):
        raise MessageRefused(
            ErrorCode.NOT_LATEST_REPLY,
            "Only the latest reply of a conversation can be regenerated.",
        )
    asked = await _entry(communication, conversation, reply.get("in_reply_to") or "", "user")
    return await sdk.update_session(
        connection.connection_id,
        ChatSessionWorkflow.regenerate_reply,
        RegenerateInput(
            connection.agent_type,
            frame.message_id,
            frame.client_message_id,
            seq=int(asked["seq"]),
            event_id=str(asked.get("event_id", "")),
            latest=latest.get("message_id") == frame.message_id,
            message=str(asked["content"]),
        ),
    )


async def edit_message(
    sdk: AgentWebSocketSDK,
    communication: CommunicationFoundation,
    connection: AgentConnection,
    frame: EditMessageFrame,
) -> SubmitMessageResult:
    """Stop the reply to the edited message if it is still coming and answer the new text."""
    await _entry(communication, connection.conversation, frame.message_id, "user")
    return await sdk.update_session(
        connection.connection_id,
        ChatSessionWorkflow.edit_message,
        EditMessageInput(
            connection.agent_type, frame.message_id, frame.message, frame.client_message_id
        ),
    )
