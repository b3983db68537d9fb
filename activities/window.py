"""The prompt window: the messages an agent sees before the one it is answering."""

from __future__ import annotations

from agents.replies import WindowMessage
from foundations.communication import CommunicationFoundation, Conversation


async def window_before(
    communication: CommunicationFoundation, conversation: Conversation, seq: int, limit: int
) -> list[WindowMessage]:
    """The conversation's last `limit` messages before message `seq`, oldest first."""
    messages = await communication.history(conversation, limit + 1)
    window = [
        WindowMessage(role=message["role"], content=message["content"], seq=message["seq"])
        for message in messages
        # Failure notices are for the user, not for the agent.
        if message["seq"] < seq and message["role"] in ("user", "assistant")
    ]
    return window[-limit:]
