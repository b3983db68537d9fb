"""The REST fallback: the same turns as the WebSocket, answered whole."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request
from pydantic import AfterValidator, BaseModel, Field

from activities.post_office import reply_id
from agents.catalog import AgentType, Pillar
from api import errors, questions, reply_actions
from api.agent_sdk import AgentConnection, AgentWebSocketSDK, FellBehind, MessageRefused
from api.client_address import client_key, trusted_networks
from api.deps import Edge
from api.errors import SUBMIT_ERRORS, EdgeError, refusal
from api.frames import (
    QUESTION_ID_PATTERN,
    ClientMessageId,
    Feedback,
    PlainText,
    QuestionAnswer,
)
from foundations import server_events
from foundations.communication import Conversation
from foundations.errors import EMPTY_MESSAGE, ErrorCode
from foundations.server_events import ChatResponse, Error, QuestionAsked
from foundations.sessions import SessionStatus

router = APIRouter(prefix="/api/chat", tags=["chat"])

# How long a REST caller waits for the whole reply.
REPLY_WAIT_SECONDS = 120


# Not blank (as `str.strip` sees it) and without NUL, as the document says with a pattern;
# checked in Python after `PlainText`, so that a lone surrogate is named as such. Its length
# limit is a setting, declared in the document by `declare_message_limit`.
MESSAGE_PATTERN = r"^[^\x00]*[^\x00\s\x1c-\x1f][^\x00]*$"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(EMPTY_MESSAGE)
    return value


MessageText = Annotated[
    PlainText, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": MESSAGE_PATTERN})
]


class GuideChatRequest(BaseModel):
    message: MessageText
    session_token: str | None = None
    client_message_id: ClientMessageId | None = None


class LiaisonChatRequest(GuideChatRequest):
    pillar: Pillar


class ChatReply(BaseModel):
    session_id: str
    # Present when this request created the session: keep it to continue the conversation.
    session_token: str | None
    message_id: str
    reply_id: str
    agent_type: str
    pillar: str | None
    message: str
    # Set when the turn waits for the person instead: `message` is the question's prompt and
    # `reply_id` the reply to come; answer with POST /api/chat/questions/{question_id}/answer,
    # and the reply lands in the history.
    question: dict[str, Any] | None = None


class SessionCreated(BaseModel):
    session_id: str
    session_token: str
    expires_at: float


class SessionTokenRequest(BaseModel):
    session_token: str


# Every chat turn's error answers.
_TURN = errors.responses(400, 401, 429, 502, 503, 504)


@router.post("/guide", responses=_TURN)
async def chat_with_guide(body: GuideChatRequest, edge: Edge, request: Request) -> ChatReply:
    """Send a message to the guide and wait for its whole reply."""
    await _admit_new_session(edge, request, body.session_token)
    connection = await _connect(edge.sdk, None, body.session_token)
    return await _turn(edge.sdk, connection, body)


@router.post("/liaison", responses=_TURN)
async def chat_with_liaison(body: LiaisonChatRequest, edge: Edge, request: Request) -> ChatReply:
    """Send a message to a pillar's liaison and wait for its whole reply."""
    await _admit_new_session(edge, request, body.session_token)
    connection = await _connect(edge.sdk, body.pillar, body.session_token)
    return await _turn(edge.sdk, connection, body)


@router.post("/conversation/create", responses=errors.responses(429, 503))
async def create_conversation(edge: Edge, request: Request) -> SessionCreated:
    """Mint a session and its token."""
    await _admit_new_session(edge, request, None)
    connection = await _connect(edge.sdk, None, None)
    await edge.sdk.disconnect_agent(connection.connection_id)
    assert connection.new_token is not None
    return SessionCreated(
        session_id=connection.session.session_id,
        session_token=connection.new_token,
        expires_at=connection.session.expires_at,
    )


@router.get("/conversation/history", responses=errors.responses(401, 503))
async def conversation_history(
    edge: Edge,
    session_token: str,
    agent_type: AgentType = AgentType.GUIDE,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    """A conversation's recorded messages, oldest first."""
    session = await edge.sdk.session(session_token)
    snapshot = await edge.sdk.history(session.session_id, agent_type, limit)
    return {
        "session_id": session.session_id,
        "agent_type": agent_type.value,
        "messages": snapshot.messages,
        "message_count": snapshot.message_count,
        "latest_event_id": snapshot.event_id,
    }


@router.get("/conversation/messages", responses=errors.responses(401, 503))
async def conversation_messages(
    edge: Edge,
    session_token: str,
    agent_type: AgentType = AgentType.GUIDE,
    before_seq: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=200),
) -> dict[str, Any]:
    """A page of a conversation's messages, oldest first: those before `before_seq` (0: the
    newest). Pass `next_before_seq` back for the page before; it is null on the first page."""
    session = await edge.sdk.session(session_token)
    messages = await edge.sdk.page(session.session_id, agent_type, before_seq, limit)
    first = messages[0]["seq"] if messages else 1
    return {
        "session_id": session.session_id,
        "agent_type": agent_type.value,
        "messages": messages,
        "next_before_seq": first if first > 1 else None,
    }


@router.post("/session/close", responses=errors.responses(400, 401, 503))
async def close_session(body: SessionTokenRequest, edge: Edge) -> dict[str, str]:
    """End a session: its token stops working and its workflow completes."""
    session = await edge.sdk.session(body.session_token)
    await edge.sdk.close_session(session.session_id)
    # The token no longer works, so nothing uploads again; pending turns may still read them.
    await edge.uploads.forget(session.session_id, edge.settings.closed_session_retention_seconds)
    return {"session_id": session.session_id, "status": SessionStatus.CLOSED.value}


class OpenQuestions(BaseModel):
    # Each as its `question_asked` event (docs/protocol.md).
    questions: list[dict[str, Any]]


class AnsweredQuestion(BaseModel):
    question_id: str
    # approved | edited | rejected | answered: what the answer did; every tab also gets it as
    # `question_resolved`.
    outcome: str


@router.get("/questions", responses=errors.responses(401, 503))
async def open_questions(edge: Edge, session_token: str) -> OpenQuestions:
    """The session's open questions, in every conversation, oldest first."""
    session = await edge.sdk.session(session_token)
    stored = await questions.questions(edge, session.session_id)
    return OpenQuestions(
        questions=[q.asked.model_dump(mode="json") for q in stored if q.open],
    )


@router.post("/questions/{question_id}/answer", responses=errors.responses(400, 401, 404, 409, 503))
async def answer_question(
    edge: Edge,
    session_token: str,
    body: QuestionAnswer,
    question_id: Annotated[str, Path(pattern=QUESTION_ID_PATTERN)],
) -> AnsweredQuestion:
    """Answer an open question (the same body as the `answer_question` frame, without `type`);
    the first answer wins: a later one gets 409 `question_closed`."""
    session = await edge.sdk.session(session_token)
    result = await questions.answer_question(edge, session.session_id, question_id, body)
    return AnsweredQuestion(question_id=result.question_id, outcome=result.outcome)


class FeedbackReply(BaseModel):
    """The rating stored: the latest one of this user for this reply."""

    message_id: str
    rating: str


@router.put("/feedback", responses=errors.responses(400, 401, 404, 503))
async def give_feedback(body: Feedback, edge: Edge, session_token: str) -> FeedbackReply:
    """Rate a reply (thumbs up or down, reasons, a comment); rating again replaces it."""
    session = await edge.sdk.session(session_token)
    # Reply ids are unique across a session's conversations: find the one that holds it (or
    # the guide's, which then says there is no such reply).
    conversation = Conversation(session.session_id, AgentType.GUIDE)
    for agent_type in AgentType:
        candidate = Conversation(session.session_id, agent_type)
        if await edge.sdk.communication.has_message(candidate, body.message_id):
            conversation = candidate
            break
    try:
        recorded = await reply_actions.give_feedback(
            edge.sdk.communication, edge.feedback, session, conversation, body
        )
    except MessageRefused as refused:
        raise refusal(refused) from None
    return FeedbackReply(message_id=recorded.message_id, rating=recorded.rating)


async def _admit_new_session(edge: Edge, request: Request, token: str | None) -> None:
    """Without a token the request creates a session: count it against the client's limit."""
    if token is not None:
        return
    peer = request.client.host if request.client else None
    client = client_key(peer, request.headers, trusted_networks(edge.settings.trusted_proxies))
    refused = await edge.admission.new_session(client)
    if refused is not None:
        raise EdgeError(refused.code, refused.message, refused.retry_after)


async def _connect(
    sdk: AgentWebSocketSDK, pillar: str | None, token: str | None
) -> AgentConnection:
    # What connecting raises is answered by the error table (api/errors.py).
    if pillar is None:
        return await sdk.connect_guide_agent(token)
    return await sdk.connect_liaison_agent(pillar, token)


async def _turn(
    sdk: AgentWebSocketSDK, connection: AgentConnection, body: GuideChatRequest
) -> ChatReply:
    try:
        # The connection listens from before the message is sent, so the reply cannot slip by.
        try:
            ack = await sdk.send_agent_message(
                connection.connection_id, body.message, body.client_message_id
            )
        except SUBMIT_ERRORS as error:
            raise refusal(error) from None
        try:
            recorded = None
            if ack.duplicate:
                recorded = await _recorded_reply(sdk, connection, ack.message_id)
            reply = (
                recorded
                if recorded is not None
                else await asyncio.wait_for(
                    _reply_to(sdk, connection, ack.message_id), REPLY_WAIT_SECONDS
                )
            )
        except (TimeoutError, FellBehind):
            raise EdgeError(
                ErrorCode.REPLY_TIMEOUT,
                "The reply did not arrive in time; it will be in the history.",
            ) from None
    finally:
        await sdk.disconnect_agent(connection.connection_id)
    return ChatReply(
        session_id=connection.session.session_id,
        session_token=connection.new_token,
        message_id=ack.message_id,
        reply_id=reply["message_id"],
        agent_type=reply["agent_type"],
        pillar=reply["pillar"],
        message=reply["message"],
        question=reply.get("question"),
    )


async def _recorded_reply(
    sdk: AgentWebSocketSDK, connection: AgentConnection, message_id: str
) -> dict[str, Any] | None:
    """A resent message's reply, if it was recorded before the resend."""
    snapshot = await sdk.history(connection.session.session_id, connection.agent_type, 1000)
    for message in snapshot.messages:
        if message.get("in_reply_to") == message_id:
            pillar = AgentType(message["agent_type"]).pillar
            return {
                "message_id": message["message_id"],
                "agent_type": message["agent_type"],
                "pillar": pillar.value if pillar else None,
                "message": message["content"],
            }
    return None


async def _reply_to(
    sdk: AgentWebSocketSDK, connection: AgentConnection, message_id: str
) -> dict[str, Any]:
    while True:
        event = server_events.parse(
            (await sdk.receive_agent_message(connection.connection_id)).body
        )
        if isinstance(event, ChatResponse) and event.in_reply_to == message_id:
            return {
                "message_id": event.message_id,
                "agent_type": event.agent_type.value,
                "pillar": event.pillar.value if event.pillar else None,
                "message": event.message,
            }
        if isinstance(event, QuestionAsked) and event.in_reply_to == message_id:
            return {
                "message_id": reply_id(message_id),
                "agent_type": event.agent_type.value,
                "pillar": event.pillar.value if event.pillar else None,
                "message": event.prompt,
                "question": event.model_dump(mode="json"),
            }
        if isinstance(event, Error) and event.in_reply_to == message_id:
            raise EdgeError(event.code, event.message)


def declare_message_limit(app: FastAPI, max_chars: int) -> None:
    """Put the configured message length limit into the OpenAPI document.

    The request models cannot know it (it is a setting), yet a client must: a longer message
    is refused with 422 `message_too_long`.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            components = build()["components"]["schemas"]
            for model in (GuideChatRequest, LiaisonChatRequest):
                components[model.__name__]["properties"]["message"]["maxLength"] = max_chars
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
