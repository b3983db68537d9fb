"""The WebSocket edge: `/api/ws/guide` and `/api/ws/liaison/{pillar}`.

Each socket has a reader (client frames -> the session's workflow) and a writer (conversation
events -> the socket). Bad frames get an `error` frame and the socket stays open; only bad
connection parameters and persistent flooding close it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api import frames, questions, reply_actions
from api.agent_sdk import (
    AgentConnection,
    FellBehind,
    MessageRefused,
)
from api.client_address import client_key, trusted_networks
from api.deps import EdgeState, WsEdge
from api.errors import CONNECT_ERRORS, SUBMIT_ERRORS, EdgeError, raised, refusal
from api.lifecycle import BACKEND_UNREACHABLE, close_unavailable
from foundations import server_events
from foundations.admission import Refusal
from foundations.errors import ErrorCode
from foundations.metrics import LIVE_SOCKETS, event_relayed, message_handled
from foundations.server_events import (
    AnyServerEvent,
    ConversationRestored,
    Error,
    Gap,
    MessageAccepted,
    Pong,
    SessionCreated,
    recorded_messages,
)
from foundations.tracing import traced

logger = logging.getLogger(__name__)
router = APIRouter()

_EVENT_ID = re.compile(frames.EVENT_ID_PATTERN)


@router.websocket("/api/ws/guide")
async def guide_socket(
    websocket: WebSocket,
    edge: WsEdge,
    session_token: str | None = None,
    last_event_id: str | None = None,
) -> None:
    """Chat with the cross-domain guide."""
    await _serve(websocket, edge, None, session_token, last_event_id)


@router.websocket("/api/ws/liaison/{pillar}")
async def liaison_socket(
    websocket: WebSocket,
    edge: WsEdge,
    pillar: str,
    session_token: str | None = None,
    last_event_id: str | None = None,
) -> None:
    """Chat with one pillar's liaison agent."""
    await _serve(websocket, edge, pillar, session_token, last_event_id)


async def _serve(
    websocket: WebSocket,
    edge: EdgeState,
    pillar: str | None,
    session_token: str | None,
    last_event_id: str | None,
) -> None:
    await websocket.accept()
    settings = edge.settings
    if not settings.websocket_enabled:
        await _close(
            websocket,
            EdgeError(ErrorCode.WEBSOCKET_DISABLED, "WebSockets are disabled; use the REST API"),
        )
        return
    origin = websocket.headers.get("origin")
    if origin is not None and not _origin_allowed(origin, settings.allowed_origins):
        await _close(websocket, EdgeError(ErrorCode.ORIGIN_NOT_ALLOWED, "origin not allowed"))
        return
    try:
        refused = await _admit(websocket, edge, session_token)
    except BACKEND_UNREACHABLE as error:
        await close_unavailable(websocket, error)
        return
    if refused is not None:
        await _close_refused(websocket, refused)
        return
    sdk = edge.sdk
    try:
        if pillar is None:
            connection = await sdk.connect_guide_agent(session_token)
        else:
            connection = await sdk.connect_liaison_agent(pillar, session_token)
    except CONNECT_ERRORS as error:
        await _close(websocket, raised(error))
        return
    except BACKEND_UNREACHABLE as error:
        await close_unavailable(websocket, error)
        return
    socket = _Socket(websocket, edge, connection)
    LIVE_SOCKETS.labels(connection.agent_type.value).inc()
    try:
        async with edge.admission.socket_slot(
            connection.session.session_id, connection.connection_id
        ) as full:
            if full is not None:
                await _close_refused(websocket, full)
                return
            with edge.sockets.track(websocket):
                await socket.run(last_event_id)
    except BACKEND_UNREACHABLE as error:
        await close_unavailable(websocket, error)
    finally:
        LIVE_SOCKETS.labels(connection.agent_type.value).dec()
        try:
            await sdk.disconnect_agent(connection.connection_id)
        except BACKEND_UNREACHABLE as error:
            # The session's link to this socket expires with the session.
            logger.warning("could not unlink a closed socket: %r", error)


def _origin_allowed(origin: str, allowed: list[str]) -> bool:
    return "*" in allowed or origin in allowed


async def _admit(
    websocket: WebSocket, edge: EdgeState, session_token: str | None
) -> Refusal | None:
    """Count the new socket (and the new session, without a token) against the client's limits."""
    peer = websocket.client.host if websocket.client else None
    client = client_key(peer, websocket.headers, trusted_networks(edge.settings.trusted_proxies))
    refused = await edge.admission.new_socket(client)
    if refused is None and session_token is None:
        refused = await edge.admission.new_session(client)
    return refused


async def _close_refused(websocket: WebSocket, refused: Refusal) -> None:
    await _close(websocket, EdgeError(refused.code, refused.message, refused.retry_after))


async def _close(websocket: WebSocket, error: EdgeError) -> None:
    """Close with the error's close code; a wait, when there is one, ends the reason."""
    close = error.answer.close
    assert close is not None, f"{error.code} does not close a socket"
    if error.retry_after is None:
        # A close frame's reason holds at most 123 bytes.
        reason = error.message.encode()[:123].decode(errors="ignore")
    else:
        reason = frames.close_reason(error.message, error.retry_after)
    await websocket.close(close, reason)


class _Socket:
    """One accepted, authenticated socket."""

    def __init__(self, websocket: WebSocket, edge: EdgeState, connection: AgentConnection) -> None:
        self._websocket = websocket
        self._edge = edge
        self._connection = connection
        self._send_lock = asyncio.Lock()
        settings = edge.settings
        self._frames = _Bucket(settings.socket_frames_per_second, settings.socket_burst)
        self._cancels = _Bucket(settings.socket_cancels_per_second, settings.socket_cancel_burst)
        self._strikes = 0

    async def run(self, last_event_id: str | None) -> None:
        connection = self._connection
        if connection.new_token is not None:
            await self._send(
                SessionCreated(
                    agent_type=connection.agent_type,
                    session_token=connection.new_token,
                    session_id=connection.session.session_id,
                    expires_at=connection.session.expires_at,
                )
            )
        await self._restore()
        if last_event_id is not None:
            await self._resume(last_event_id)
        # The reader runs in this handler's own task and the writer in one more: an idle
        # socket holds one task beyond uvicorn's, and falling behind is a callback.
        handler = asyncio.current_task()
        assert handler is not None
        writer = asyncio.create_task(self._write_events())

        def writer_ended(task: asyncio.Task[None]) -> None:
            # The writer ends on its own only by failing (or falling behind, when it closes
            # the socket itself): its failure must end the socket too, or the client would
            # wait on an open socket that relays nothing. A client that left is no failure:
            # the reader sees the disconnect itself.
            if task.cancelled() or isinstance(task.exception(), WebSocketDisconnect | None):
                return
            handler.cancel()

        def fell_behind() -> None:
            writer.cancel()  # it closes the socket, even when blocked on a client not reading

        writer.add_done_callback(writer_ended)
        self._edge.sdk.when_fallen_behind(self._connection.connection_id, fell_behind)
        try:
            await self._read_frames()
        except asyncio.CancelledError:
            failure = writer.exception() if writer.done() and not writer.cancelled() else None
            if failure is None:
                raise
            handler.uncancel()
            # Redis errors reach _serve, which closes with 1013.
            raise failure from None
        finally:
            writer.remove_done_callback(writer_ended)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    async def _restore(self) -> None:
        snapshot = await self._edge.sdk.restore(self._connection.connection_id)
        await self._send(
            ConversationRestored(
                agent_type=self._connection.agent_type,
                event_id=snapshot.event_id,
                session_id=self._connection.session.session_id,
                messages=recorded_messages(snapshot.messages),
                message_count=snapshot.message_count,
                latest_event_id=snapshot.event_id,
            )
        )
        # The conversation's questions, open or resolved: the page shows each where it was asked.
        asked = await questions.questions(
            self._edge, self._connection.session.session_id, self._connection.agent_type
        )
        for event in questions.restored_events(asked):
            await self._send(event)

    async def _resume(self, last_event_id: str) -> None:
        if not _EVENT_ID.fullmatch(last_event_id):
            await self._send_error(
                ErrorCode.INVALID_FRAME, "last_event_id must look like 1700000000000-0."
            )
            return
        complete = await self._edge.sdk.resume(self._connection.connection_id, last_event_id)
        if not complete:
            await self._send(
                Gap(
                    agent_type=self._connection.agent_type,
                    last_event_id=last_event_id,
                    message="Some events after your last_event_id are gone; history restored.",
                )
            )
            await self._restore()

    async def _write_events(self) -> None:
        sdk = self._edge.sdk
        connection_id = self._connection.connection_id
        try:
            while True:
                event = await sdk.receive_agent_message(connection_id)
                async with self._send_lock:
                    await self._websocket.send_text(event.frame())
                if event.live:
                    event_relayed(event.event_id)
        except FellBehind:
            pass
        except asyncio.CancelledError:
            # Cancelled by the overflow (perhaps blocked on a client that stopped reading),
            # or by the handler ending.
            if not sdk.has_fallen_behind(connection_id):
                raise
        await self._close_behind()

    async def _close_behind(self) -> None:
        """Close a socket whose client reads slower than its conversation produces events.

        Its queue is bounded, so the events it missed are no longer on their way: the client
        reconnects with its last event id and gets them from the stream.
        """
        async with self._send_lock:
            await self._websocket.close(
                frames.CLOSE_SLOW_CONSUMER,
                frames.close_reason("Fell behind; reconnect with last_event_id.", 0),
            )

    async def _read_frames(self) -> None:
        settings = self._edge.settings
        while True:
            try:
                received = await self._websocket.receive()
            except WebSocketDisconnect:
                return
            if received["type"] == "websocket.disconnect":
                return
            if not self._frames.take():
                self._strikes += 1
                if self._strikes >= settings.socket_flood_strikes:
                    await _close(
                        self._websocket, EdgeError(ErrorCode.RATE_LIMITED, "too many frames")
                    )
                    return
                await self._send_error(
                    ErrorCode.RATE_LIMITED, "Too many frames; wait a moment before sending more."
                )
                continue
            self._strikes = 0
            text = received.get("text")
            if text is None:
                await self._send_error(ErrorCode.INVALID_FRAME, "Send text frames holding JSON.")
                continue
            try:
                frame = frames.parse_client_frame(text)
            except frames.FrameError as error:
                await self._send_error(error.code, str(error))
                continue
            if isinstance(frame, frames.ChatMessageFrame):
                await self._submit(frame)
            elif isinstance(frame, frames.ResumeFrame):
                await self._resume(frame.last_event_id)
            elif isinstance(frame, frames.CancelFrame):
                await self._cancel(frame.message_id)
            elif isinstance(frame, frames.AnswerQuestionFrame):
                await self._answer(frame)
            elif isinstance(
                frame, frames.FeedbackFrame | frames.RegenerateFrame | frames.EditMessageFrame
            ):
                await self._reply_action(frame)
            else:
                await self._send(Pong(agent_type=self._connection.agent_type))

    @traced("chat_message", new_trace=True)
    async def _submit(self, frame: frames.ChatMessageFrame) -> None:
        received_at = time.monotonic()
        try:
            ack = await self._edge.sdk.send_agent_message(
                self._connection.connection_id, frame.message, frame.client_message_id
            )
        except SUBMIT_ERRORS as error:
            if not isinstance(error, (MessageRefused, WorkflowUpdateFailedError)):
                logger.warning("submitting a message failed: %s", error)
            refused = refusal(error)
            await self._send_error(
                refused.code,
                refused.message,
                client_message_id=frame.client_message_id,
                retry_after=refused.retry_after,
            )
            message_handled("refused", refused.code, received_at=received_at)
            return
        if ack.duplicate:
            # Nothing new was published; answer the resend directly with the original ack.
            await self._send(
                MessageAccepted(
                    agent_type=self._connection.agent_type,
                    event_id=ack.event_id,
                    message_id=ack.message_id,
                    client_message_id=frame.client_message_id,
                    seq=ack.seq,
                    duplicate=True,
                )
            )
        # An accepted message's ack is its message_accepted event, already on its way to the
        # socket: the update returns only after it was published.
        message_handled("duplicate" if ack.duplicate else "accepted", received_at=received_at)

    async def _cancel(self, message_id: str) -> None:
        # Each cancel is a signal in the session's history: a socket gets a few per second.
        if not self._cancels.take():
            await self._send_error(
                ErrorCode.RATE_LIMITED,
                "Too many cancel requests; wait a moment.",
                in_reply_to=message_id,
            )
            return
        try:
            await self._edge.sdk.cancel_reply(self._connection.connection_id, message_id)
        except MessageRefused as refused:
            await self._send_error(refused.code, str(refused), in_reply_to=message_id)
        except RPCError as error:
            logger.warning("cancelling a reply failed: %s", error)
            await self._send_error(
                ErrorCode.UNAVAILABLE,
                "The reply could not be stopped; try again.",
                in_reply_to=message_id,
            )

    async def _answer(self, frame: frames.AnswerQuestionFrame) -> None:
        # Its outcome reaches every tab as `question_resolved`; only a refusal is sent here.
        answer = frames.QuestionAnswer.model_validate(
            frame.model_dump(exclude={"type", "question_id"})
        )
        try:
            await questions.answer_question(
                self._edge, self._connection.session.session_id, frame.question_id, answer
            )
        except EdgeError as error:
            await self._send_error(error.code, error.message)
        except RPCError as error:
            logger.warning("answering a question failed: %s", error)
            await self._send_error(
                ErrorCode.UNAVAILABLE, "The answer was not taken; send it again."
            )

    async def _reply_action(
        self, frame: frames.FeedbackFrame | frames.RegenerateFrame | frames.EditMessageFrame
    ) -> None:
        """Rate, regenerate or edit: the outcome reaches every tab as conversation events."""
        sdk, connection = self._edge.sdk, self._connection
        client_message_id = getattr(frame, "client_message_id", None)
        try:
            if isinstance(frame, frames.FeedbackFrame):
                await reply_actions.give_feedback(
                    sdk.communication,
                    self._edge.feedback,
                    connection.session,
                    connection.conversation,
                    frame,
                )
                return
            if isinstance(frame, frames.RegenerateFrame):
                ack = await reply_actions.regenerate(sdk, sdk.communication, connection, frame)
            else:
                ack = await reply_actions.edit_message(sdk, sdk.communication, connection, frame)
        except SUBMIT_ERRORS as error:
            if not isinstance(error, (MessageRefused, WorkflowUpdateFailedError)):
                logger.warning("%s failed: %s", frame.type, error)
            refused = refusal(error)
            await self._send_error(
                refused.code,
                refused.message,
                client_message_id=client_message_id,
                in_reply_to=frame.message_id,
                retry_after=refused.retry_after,
            )
            return
        if ack.duplicate and isinstance(frame, frames.EditMessageFrame):
            # Nothing new was published; answer the resend with the original ack.
            await self._send(
                MessageAccepted(
                    agent_type=connection.agent_type,
                    event_id=ack.event_id,
                    message_id=ack.message_id,
                    client_message_id=client_message_id,
                    seq=ack.seq,
                    duplicate=True,
                )
            )

    async def _send_error(
        self,
        code: ErrorCode,
        message: str,
        *,
        client_message_id: str | None = None,
        in_reply_to: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        await self._send(
            Error(
                agent_type=self._connection.agent_type,
                code=code,
                message=message,
                client_message_id=client_message_id,
                in_reply_to=in_reply_to,
                retry_after=retry_after,
            )
        )

    async def _send(self, event: AnyServerEvent) -> None:
        async with self._send_lock:
            await self._websocket.send_text(server_events.frame(event))


class _Bucket:
    """A token bucket: a steady rate with room for bursts."""

    def __init__(self, per_second: float, burst: int) -> None:
        self._per_second = per_second
        self._burst = float(burst)
        self._tokens = float(burst)
        self._refilled_at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled_at) * self._per_second)
        self._refilled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
