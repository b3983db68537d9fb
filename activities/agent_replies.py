"""The agent reply activity: runs an agent and streams its reply, delta by delta."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.post_office import PostOffice, RecordReplyInput, StepRecord
from activities.window import window_before
from agents.batching import batch_deltas
from agents.catalog import AgentType
from agents.replies import (
    CapabilityOutcome,
    ReplyContext,
    ReplyProvider,
    ReplyRejected,
    ReplyUnavailable,
)
from foundations import metrics
from foundations.communication import (
    CommunicationFoundation,
    Conversation,
)
from foundations.gateway import Realm
from foundations.payloads import payload_bytes, truncate_to_payload_bytes
from foundations.server_events import ChatChunk, ReplyRestarted

# A reply travels back to the workflow whole: it is cut, with a note, at this many bytes of
# payload (see PAYLOAD_BUDGET_BYTES in workflows/session_payloads.py).
REPLY_MAX_BYTES = 96 * 1024
_TRUNCATED = "\n\n[Truncated: this reply reached its length limit. Ask for the rest.]"

# A model may think for many seconds before its first token; the reply heartbeats on this
# cadence anyway, so the workflow's short heartbeat timeout (REPLY_HEARTBEAT_TIMEOUT) only
# fires when the worker is gone.
HEARTBEAT_INTERVAL = timedelta(seconds=2)


@dataclass
class GenerateReplyInput:
    session_id: str
    # The conversation the reply is streamed to ...
    conversation: AgentType
    # ... and the agent that writes it.
    author: AgentType
    message_id: str
    in_reply_to: str
    # The sequence number of the message being answered: the window ends before it.
    in_reply_to_seq: int
    message: str
    # What the liaison's orchestrator did for this message, for the reply to cite.
    capability: CapabilityOutcome | None = None
    # The stream id of the user message: when it was recorded, for time to first chunk.
    in_reply_to_event_id: str = ""
    # Record the reply here and publish it as `chat_response`, instead of leaving that to a
    # local activity of the workflow: one step, one history event and a workflow task's
    # wait fewer per turn. Earlier versions of the workflow leave it False.
    record: bool = False
    # Recorded with the reply: the turn's capability runs and the reply it regenerates.
    steps: list[StepRecord] | None = None
    regenerates: str | None = None

    # Read from replies that earlier versions scheduled (foundations/payload_converter.py).
    RENAMED_FIELDS: ClassVar[dict[str, str]] = {"agent_type": "author"}


@dataclass
class GeneratedReply:
    message_id: str
    content: str
    # True when the user stopped the reply: `content` is what had streamed by then.
    cancelled: bool = False
    # True when the activity recorded it (GenerateReplyInput.record).
    recorded: bool = False
    # The reply provider that wrote it, kept with the reply for feedback.
    provider: str | None = None


@dataclass(frozen=True)
class AgentRepliesNeeds:
    """What the reply activity takes from the Platform Gateway."""

    llm: ReplyProvider
    communication_foundation: CommunicationFoundation


class AgentReplies:
    """Runs the configured reply provider and relays its deltas to the conversation."""

    REALM = Realm.BUSINESS_ENABLEMENT
    USES = AgentRepliesNeeds

    def __init__(
        self,
        provider: ReplyProvider,
        communication: CommunicationFoundation,
        context_window_messages: int,
        frame_window: timedelta = timedelta(0),
        post_office: PostOffice | None = None,
    ) -> None:
        self._provider = provider
        # Named with each reply, so feedback can be told apart by what wrote the reply.
        self._provider_name = type(provider).__name__
        self._communication = communication
        self._context_window_messages = context_window_messages
        self._frame_window_seconds = frame_window.total_seconds()
        # Records the reply when the workflow asks (GenerateReplyInput.record).
        self._post_office = post_office

    @activity.defn
    @metrics.counts_reply_attempts
    async def generate_reply(self, input: GenerateReplyInput) -> GeneratedReply:
        """Stream the reply as `chat_chunk` events and return it whole; with `record`, record
        it and publish it as `chat_response` too.

        A retried attempt first publishes `reply_restarted`, so clients drop the partial reply
        of the failed attempt before the new deltas arrive; one whose reply an earlier attempt
        already recorded only says so.
        """
        post_office = self._post_office if input.record else None
        if post_office is None:
            return await self._stream(input)
        conversation = Conversation(input.session_id, input.conversation)
        if activity.info().attempt > 1 and await self._communication.is_recorded(
            conversation, input.message_id
        ):
            return GeneratedReply(input.message_id, "", recorded=True)
        reply = await self._stream(input)
        await post_office.record_reply(
            reply_record(input, reply, timestamp=datetime.now(UTC).isoformat())
        )
        reply.recorded = True
        return reply

    async def _stream(self, input: GenerateReplyInput) -> GeneratedReply:
        conversation = Conversation(input.session_id, input.conversation)
        if activity.info().attempt > 1:
            await self._communication.publish(
                conversation,
                ReplyRestarted(agent_type=input.author, message_id=input.message_id),
            )
        context = ReplyContext(
            session_id=input.session_id,
            author=input.author,
            message=input.message,
            window=await window_before(
                self._communication,
                conversation,
                input.in_reply_to_seq,
                self._context_window_messages,
            ),
            capability=input.capability,
        )
        # What the sockets have been sent: on Stop, exactly this is recorded.
        parts: list[str] = []
        deltas = batch_deltas(self._provider.stream_reply(context), self._frame_window_seconds)
        try:
            size = 0
            async with _heartbeating(HEARTBEAT_INTERVAL):
                async for batch in deltas:
                    delta = truncate_to_payload_bytes(batch, REPLY_MAX_BYTES - size, _TRUNCATED)
                    size += payload_bytes(delta) - 2
                    first = not parts
                    # A Stop arriving mid-publish waits for the publish: what the sockets got
                    # is exactly what is recorded.
                    parts.append(delta)
                    await _uncancellable(
                        self._communication.publish(
                            conversation,
                            ChatChunk(
                                agent_type=input.author,
                                message_id=input.message_id,
                                delta=delta,
                            ),
                        )
                    )
                    if first:
                        metrics.first_chunk_published(
                            input.author.value, input.in_reply_to_event_id
                        )
                    if delta is not batch:
                        await deltas.aclose()  # stops the model's stream too
                        break
                    # Heartbeats carry cancellation: the user's Stop arrives through them.
                    activity.heartbeat()
        except asyncio.CancelledError:
            if activity.is_worker_shutdown():
                raise  # not the user's doing: the reply restarts on another worker
            return GeneratedReply(
                input.message_id, "".join(parts), cancelled=True, provider=self._provider_name
            )
        # The provider's words can quote the model server's error body, and that can quote
        # part of an API key: they go to the worker's log, the failure carries none of them.
        except ReplyRejected as error:
            activity.logger.warning("the reply provider refused the request: %s", error)
            raise ApplicationError(
                "the reply provider refused the request", type="ReplyRejected", non_retryable=True
            ) from None
        except ReplyUnavailable as error:
            activity.logger.warning("the reply provider failed: %s", error)
            delay = error.retry_after_seconds
            raise ApplicationError(
                "the reply provider is unavailable",
                type="ReplyUnavailable",
                next_retry_delay=timedelta(seconds=delay) if delay else None,
            ) from None
        return GeneratedReply(input.message_id, "".join(parts), provider=self._provider_name)


def reply_record(
    input: GenerateReplyInput, reply: GeneratedReply, timestamp: str
) -> RecordReplyInput:
    """What recording `reply` to `input` writes."""
    return RecordReplyInput(
        session_id=input.session_id,
        conversation=input.conversation,
        message_id=input.message_id,
        in_reply_to=input.in_reply_to,
        content=reply.content,
        timestamp=timestamp,
        author=input.author,
        cancelled=reply.cancelled,
        in_reply_to_event_id=input.in_reply_to_event_id,
        steps=input.steps,
        regenerates=input.regenerates,
        capability=input.capability.capability if input.capability else None,
        provider=reply.provider,
    )


@asynccontextmanager
async def _heartbeating(interval: timedelta) -> AsyncIterator[None]:
    """Heartbeat every `interval` while the body runs, whether or not deltas arrive."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval.total_seconds())
            activity.heartbeat()

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()


async def _uncancellable(awaitable: Awaitable[object]) -> None:
    """Finish `awaitable` even when the caller is cancelled meanwhile; then let the cancel in."""
    running = asyncio.ensure_future(awaitable)
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait({running})
        raise
