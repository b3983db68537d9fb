"""The Agent WebSocket SDK, the edge's service: connect to an agent, talk to it, hear its events.

It is transport-free: the WebSocket route and the REST fallback both drive it, so a reply is
the same whichever way it was asked for. A connection delivers each event of its conversation
exactly once and in order: first what it missed (from its resume point), then live events.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import redis.exceptions
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from activities.post_office import answered_message_id
from agents.catalog import AgentType, Pillar
from agents.orchestrators import OrchestratorRegistry
from api.live_relay import RESYNC, LiveQueue, LiveRelay
from foundations.admission import MessageAdmission, window_retry_after
from foundations.communication import (
    CommunicationFoundation,
    Conversation,
    Event,
    Replay,
    Snapshot,
    event_id_key,
)
from foundations.errors import EMPTY_MESSAGE, ErrorCode, message_too_long
from foundations.sessions import SessionGrant, SessionRecord, SessionStatus, SessionStore
from foundations.settings import Settings
from workflows.chat_session import (
    CancelReplyInput,
    ChatSessionInput,
    ChatSessionWorkflow,
    SubmitMessageInput,
    SubmitMessageResult,
    session_search_attributes,
    session_workflow_id,
)

# Annotated where a handle is made: without the target type, mypy's inference of the run
# method's types depends on the order it checks modules in.
SessionHandle = WorkflowHandle[ChatSessionWorkflow, None]
_UpdateInput = TypeVar("_UpdateInput")


class InvalidToken(Exception):
    """The session token is forged, unknown, expired or its session has ended."""


class InvalidPillar(ValueError):
    """No such pillar."""


class UnknownConnection(KeyError):
    """The connection id is not (or no longer) connected here."""


class MessageRefused(Exception):
    """A message refused at the edge, before it reaches the workflow: nothing was recorded."""

    def __init__(self, code: ErrorCode, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class FellBehind(Exception):
    """The connection's consumer fell too far behind; reconnect from the last event seen."""


class SubmitTimedOut(Exception):
    """No worker accepted the message in time (none polls, or Temporal is slow).

    The message may still be recorded later: a resend must carry the same client_message_id,
    which the workflow dedupes.
    """


# Right after the relay resubscribed, a stream read can still fail (a connection Redis dropped,
# Redis dropping again). Reading the stream again is safe, so a socket retries it this long
# before it gives up and is closed with "try again later".
RESYNC_READ_SECONDS = 5.0
_RESYNC_READ_PAUSE_SECONDS = 0.2


@dataclass
class AgentConnection:
    """One client's line to one conversation."""

    connection_id: str
    session: SessionRecord
    agent_type: AgentType
    # Set when this connection created the session: the token to hand to the client, once.
    new_token: str | None
    live: LiveQueue
    # The last event delivered; live events at or before it are duplicates.
    cursor: tuple[int, int] = (0, 0)
    backlog: list[Event] = field(default_factory=list)

    @property
    def conversation(self) -> Conversation:
        return Conversation(self.session.session_id, self.agent_type)


class AgentWebSocketSDK:
    """Connections to the guide and the liaisons, on top of the Communication Foundation.

    It uses the foundations directly (sessions, message admission, the Communication
    Foundation, the live relay) and reaches the session's workflow with typed calls.
    """

    def __init__(
        self,
        *,
        temporal: Client,
        sessions: SessionStore,
        admission: MessageAdmission,
        communication: CommunicationFoundation,
        relay: LiveRelay,
        orchestrators: OrchestratorRegistry,
        settings: Settings,
    ) -> None:
        self._temporal = temporal
        self._sessions = sessions
        self._admission = admission
        self._communication = communication
        self._relay = relay
        self._orchestrators = orchestrators
        self._settings = settings
        self._connections: dict[str, AgentConnection] = {}

    @property
    def communication(self) -> CommunicationFoundation:
        """The conversations' histories and streams, for the edge's reply actions."""
        return self._communication

    async def connect_guide_agent(self, session_token: str | None) -> AgentConnection:
        return await self._connect(AgentType.GUIDE, session_token)

    async def connect_liaison_agent(
        self, pillar: str, session_token: str | None
    ) -> AgentConnection:
        """Raises InvalidPillar, OrchestratorNotAvailable or LiaisonNotAvailable before the token is looked at."""
        try:
            known = Pillar(pillar)
        except ValueError:
            raise InvalidPillar(
                f"unknown pillar {pillar!r}; choose one of {', '.join(p.value for p in Pillar)}"
            ) from None
        return await self._connect(self._orchestrators.liaison(known), session_token)

    async def _connect(self, agent_type: AgentType, session_token: str | None) -> AgentConnection:
        # Without a token the connection opens a new session.
        opened: SessionGrant | SessionRecord | None
        if session_token is None:
            opened = await self._sessions.create()
        else:
            opened = await self._sessions.resolve(session_token)
        if opened is None:
            raise InvalidToken("the session token is invalid or has expired")
        if isinstance(opened, SessionGrant):
            session, new_token = opened.record, opened.token
        else:
            session, new_token = opened, None
        # Subscribe before reading anything, so no event falls between reading and listening.
        live = await self._relay.subscribe(
            Conversation(session.session_id, agent_type), self._settings.socket_queue_events
        )
        connection = AgentConnection(
            connection_id=secrets.token_hex(8),
            session=session,
            agent_type=agent_type,
            new_token=new_token,
            live=live,
        )
        self._connections[connection.connection_id] = connection
        pillar = agent_type.pillar
        await self._communication.link_connection(
            session.session_id,
            connection.connection_id,
            {
                "agent_type": agent_type.value,
                "pillar": pillar.value if pillar else None,
                "connected_at": time.time(),
            },
        )
        return connection

    async def restore(self, connection_id: str) -> Snapshot:
        """The conversation's history; events after it are delivered next."""
        connection = self._connection(connection_id)
        snapshot = await self._communication.snapshot(
            connection.conversation,
            self._settings.restore_messages,
            self._settings.restore_max_bytes,
        )
        await self.resume(connection_id, snapshot.event_id)
        return snapshot

    async def resume(self, connection_id: str, last_event_id: str) -> bool:
        """Queue every event after `last_event_id` for delivery; False if some were trimmed away."""
        connection = self._connection(connection_id)
        replay = await self._communication.events_after(connection.conversation, last_event_id)
        connection.cursor = event_id_key(last_event_id)
        connection.backlog = list(replay.events)
        # Wake a receiver blocked on live events; the "0-0" event itself is never delivered.
        # A full queue has no receiver blocked on it.
        with contextlib.suppress(asyncio.QueueFull):
            connection.live.put_nowait(Event("0-0", "{}"))
        return not replay.gap

    async def send_agent_message(
        self, connection_id: str, message: str, client_message_id: str | None = None
    ) -> SubmitMessageResult:
        """Submit a user message to the session's workflow, starting it if needed.

        Raises MessageRefused when the edge can tell the message would be refused,
        temporalio's WorkflowUpdateFailedError when the workflow refuses it, and SubmitTimedOut
        when no worker accepted it within message_submit_timeout_seconds.
        """
        connection = self._connection(connection_id)
        await self._precheck(connection.session, message)
        return await self.update_session(
            connection_id,
            ChatSessionWorkflow.submit_message,
            SubmitMessageInput(connection.agent_type, message, client_message_id),
        )

    async def update_session(
        self,
        connection_id: str,
        update: UpdateMethodMultiParam[[ChatSessionWorkflow, _UpdateInput], SubmitMessageResult],
        input: _UpdateInput,
    ) -> SubmitMessageResult:
        """Run an update of the session's workflow, starting the workflow if needed; raises
        as `send_agent_message` does."""
        connection = self._connection(connection_id)
        session = connection.session
        settings = self._settings
        start = WithStartWorkflowOperation(
            ChatSessionWorkflow.run,
            ChatSessionInput(
                session_id=session.session_id,
                user_id=session.user_id,
                max_message_chars=settings.max_message_chars,
                idle_timeout_seconds=settings.idle_timeout_seconds,
                max_turns_per_run=settings.max_turns_per_run,
                closed_retention_seconds=settings.closed_session_retention_seconds,
                lean_turn=settings.lean_turn,
                ask_before_acting=settings.ask_before_acting,
                question_timeout_seconds=settings.question_timeout_seconds,
                visible_steps=settings.visible_steps,
            ),
            id=session_workflow_id(session.session_id),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=session_search_attributes(session.session_id, session.user_id),
        )
        # No update id derived from client_message_id: the workflow dedupes itself and says
        # `duplicate`, where Temporal would silently hand back the first result.
        # rpc_timeout bounds each RPC, but the SDK polls the update again after each one: only
        # one deadline around the whole call bounds the wait when no worker takes the update.
        deadline = settings.message_submit_timeout_seconds
        # The start operation's handle is a future that fails while Temporal is unreachable;
        # nothing else awaits it, and an unretrieved failure is logged as a traceback.
        handle = asyncio.ensure_future(start.workflow_handle())
        limit = asyncio.timeout(deadline)
        try:
            async with limit:
                return await self._temporal.execute_update_with_start_workflow(
                    update,
                    input,
                    start_workflow_operation=start,
                    rpc_timeout=timedelta(seconds=deadline),
                )
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            # The SDK turns the deadline's cancellation into its own error.
            if limit.expired():
                raise SubmitTimedOut(
                    f"no worker accepted the message within {deadline:g} s"
                ) from None
            raise
        finally:
            handle.cancel()
            await asyncio.gather(handle, return_exceptions=True)

    async def _precheck(self, session: SessionRecord, message: str) -> None:
        """Refuse at the edge what the workflow would refuse, so it starts and records nothing."""
        limit = self._settings.max_message_chars
        if not message.strip():
            raise MessageRefused(ErrorCode.EMPTY_MESSAGE, EMPTY_MESSAGE)
        if len(message) > limit:
            raise MessageRefused(ErrorCode.MESSAGE_TOO_LONG, message_too_long(len(message), limit))
        admission = await self._admission.precheck(session.session_id, session.user_id, message)
        if not admission.admitted:
            code = ErrorCode(admission.code)
            retry_after = (
                window_retry_after(time.time()) if code is ErrorCode.RATE_LIMITED else None
            )
            raise MessageRefused(code, admission.reason, retry_after)

    async def cancel_reply(self, connection_id: str, message_id: str) -> None:
        """Stop the reply `message_id` (or the reply to the user message `message_id`).

        Its partial text is recorded and published as a cancelled `chat_response`; a reply
        that has already finished is left as it is. Raises MessageRefused when the
        conversation has no such message: each cancel is a signal in the workflow's history.
        """
        connection = self._connection(connection_id)
        if not await self._communication.has_message(
            connection.conversation, answered_message_id(message_id)
        ):
            raise MessageRefused(
                ErrorCode.INVALID_FRAME, "message_id names no message of this conversation."
            )
        handle: SessionHandle = self._temporal.get_workflow_handle_for(
            ChatSessionWorkflow.run, session_workflow_id(connection.session.session_id)
        )
        try:
            await handle.signal(
                ChatSessionWorkflow.cancel_reply,
                CancelReplyInput(connection.agent_type, message_id),
            )
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            # No run in progress: nothing is streaming, so nothing to stop.

    async def receive_agent_message(self, connection_id: str) -> Event:
        """The next event of the conversation for this connection, each exactly once.

        Raises FellBehind once the connection's live queue overflowed.
        """
        connection = self._connection(connection_id)
        while True:
            if connection.live.overflowed:
                raise FellBehind(connection_id)
            if connection.backlog:
                event = connection.backlog.pop(0)
            else:
                live = await connection.live.get()
                if live is None:
                    raise FellBehind(connection_id)
                event = live
            if event is RESYNC:
                replay = await self._read_after_resync(connection)
                connection.backlog.extend(replay.events)
                continue
            key = event_id_key(event.event_id)
            if key <= connection.cursor:
                continue
            connection.cursor = key
            return event

    async def _read_after_resync(self, connection: AgentConnection) -> Replay:
        """The events after the connection's cursor, read again until Redis answers.

        Raises redis' ConnectionError or TimeoutError when it still fails after
        RESYNC_READ_SECONDS: the socket is then closed, and its client resumes from the stream.
        """
        milliseconds, sequence = connection.cursor
        gives_up_at = time.monotonic() + RESYNC_READ_SECONDS
        while True:
            try:
                return await self._communication.events_after(
                    connection.conversation, f"{milliseconds}-{sequence}"
                )
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                if time.monotonic() >= gives_up_at:
                    raise
            await asyncio.sleep(_RESYNC_READ_PAUSE_SECONDS)

    def when_fallen_behind(self, connection_id: str, callback: Callable[[], None]) -> None:
        """Call `callback` once the connection's consumer has fallen too far behind to keep
        up (a callback, not a waiting task: an idle socket holds no task for it)."""
        self._connection(connection_id).live.on_overflow = callback

    def has_fallen_behind(self, connection_id: str) -> bool:
        connection = self._connections.get(connection_id)
        return connection is not None and connection.live.overflowed

    async def disconnect_agent(self, connection_id: str) -> None:
        connection = self._connections.pop(connection_id, None)
        if connection is None:
            return
        await self._relay.unsubscribe(connection.conversation, connection.live)
        await self._communication.unlink_connection(
            connection.session.session_id, connection.connection_id
        )

    async def session(self, session_token: str) -> SessionRecord:
        """The usable session a token opens; raises InvalidToken."""
        opened = await self._sessions.resolve(session_token)
        if opened is None:
            raise InvalidToken("the session token is invalid or has expired")
        return opened

    async def history(self, session_id: str, agent_type: AgentType, limit: int) -> Snapshot:
        return await self._communication.snapshot(
            Conversation(session_id, agent_type), limit, self._settings.restore_max_bytes
        )

    async def page(
        self, session_id: str, agent_type: AgentType, before_seq: int, limit: int
    ) -> list[dict[str, Any]]:
        """Older messages, page by page: up to `limit` before message `before_seq`."""
        return await self._communication.page(
            Conversation(session_id, agent_type),
            before_seq,
            limit,
            self._settings.restore_max_bytes,
        )

    async def close_session(self, session_id: str) -> None:
        """End the session: its token stops working, its workflow finishes accepted turns and completes."""
        await self._sessions.end(session_id, SessionStatus.CLOSED)
        handle: SessionHandle = self._temporal.get_workflow_handle_for(
            ChatSessionWorkflow.run, session_workflow_id(session_id)
        )
        try:
            await handle.signal(ChatSessionWorkflow.close_session)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            # No run in progress: the session is closed in the store; no turn will write
            # again, so its conversations can be let go now.
            await self._communication.forget_session(
                session_id, self._settings.closed_session_retention_seconds
            )

    def _connection(self, connection_id: str) -> AgentConnection:
        try:
            return self._connections[connection_id]
        except KeyError:
            raise UnknownConnection(connection_id) from None
