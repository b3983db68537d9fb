"""The irreducible turn: the least Temporal and Redis work any durable, streamed chat turn needs.

An update admits the message with one local activity (one Lua script that records it and
publishes `message_accepted`), then one regular activity, started eagerly by the same worker,
publishes the reply's deltas to Redis and records the reply. The update returns when the reply
is recorded, so one update is one whole turn. What the chat turn does beyond this is overhead
to account for: more local activities, more workflow tasks, more history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from agents.catalog import AgentType
    from foundations.communication import CommunicationFoundation, Conversation
    from foundations.server_events import (
        ChatChunk,
        ChatResponse,
        MessageAccepted,
        RecordedMessage,
    )

STEP_TIMEOUT = timedelta(seconds=5)
REPLY_TIMEOUT = timedelta(minutes=1)


@dataclass
class IrreducibleTurnInput:
    session_id: str
    message_id: str
    message: str
    # As many as the chat's reply publishes (measured), each `delta` long.
    deltas: int
    delta: str


class IrreducibleSteps:
    """The turn's two steps, over the same Redis scripts as the chat's."""

    def __init__(self, communication: CommunicationFoundation) -> None:
        self._communication = communication

    @activity.defn(name="irreducible_admit")
    async def admit(self, input: IrreducibleTurnInput) -> int:
        """Record the user's message and publish `message_accepted`; its sequence number."""
        conversation = Conversation(input.session_id, AgentType.GUIDE)
        recorded = await self._communication.record(
            conversation,
            input.message_id,
            RecordedMessage(
                message_id=input.message_id,
                role="user",
                content=input.message,
                timestamp="",
                agent_type=AgentType.GUIDE,
            ),
            MessageAccepted(
                agent_type=AgentType.GUIDE,
                message_id=input.message_id,
                client_message_id=None,
                message=input.message,
            ),
        )
        return recorded.seq

    @activity.defn(name="irreducible_reply")
    async def reply(self, input: IrreducibleTurnInput) -> str:
        """Publish the deltas one by one, then record the whole reply."""
        conversation = Conversation(input.session_id, AgentType.GUIDE)
        reply_id = f"r-{input.message_id}"
        for _ in range(input.deltas):
            await self._communication.publish(
                conversation,
                ChatChunk(agent_type=AgentType.GUIDE, message_id=reply_id, delta=input.delta),
            )
        content = input.delta * input.deltas
        await self._communication.record(
            conversation,
            reply_id,
            RecordedMessage(
                message_id=reply_id,
                role="assistant",
                content=content,
                timestamp="",
                agent_type=AgentType.GUIDE,
            ),
            ChatResponse(
                agent_type=AgentType.GUIDE,
                message_id=reply_id,
                in_reply_to=input.message_id,
                message=content,
                session_id=input.session_id,
                timestamp="",
            ),
        )
        return reply_id


@workflow.defn
class IrreducibleTurnWorkflow:
    """Each update is one turn: admit (local activity), then reply (regular activity)."""

    def __init__(self) -> None:
        self._finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._finished)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def touch(self, input: IrreducibleTurnInput) -> str:
        await workflow.execute_local_activity_method(
            IrreducibleSteps.admit, input, start_to_close_timeout=STEP_TIMEOUT
        )
        # Scheduled in the same workflow task completion as the update's acceptance: the
        # worker asks for it eagerly and gets it back in the completion's response.
        return await workflow.execute_activity_method(
            IrreducibleSteps.reply, input, start_to_close_timeout=REPLY_TIMEOUT
        )

    @workflow.signal
    def finish(self) -> None:
        self._finished = True
