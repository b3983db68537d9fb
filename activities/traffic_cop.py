"""Traffic Cop: admits each message into its turn, with the session's current standing."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as redis
from temporalio import activity

from agents.catalog import AgentType
from foundations.admission import Admission, ContentPolicy, MessageAdmission
from foundations.errors import ErrorCode
from foundations.gateway import Realm
from foundations.sessions import SessionStore


@dataclass
class AdmitInput:
    session_id: str
    user_id: str
    conversation: AgentType
    message: str


@dataclass(frozen=True)
class TrafficCopNeeds:
    """What Traffic Cop takes from the Platform Gateway (MessageAdmission is built on it)."""

    session: SessionStore
    cache: redis.Redis
    policy: ContentPolicy


class TrafficCop:
    """Session admission, the content policy and the message rate limits."""

    REALM = Realm.SMART_CITY
    USES = TrafficCopNeeds

    def __init__(self, sessions: SessionStore, admission: MessageAdmission) -> None:
        self._sessions = sessions
        self._admission = admission

    @activity.defn
    async def admit_message(self, input: AdmitInput) -> Admission:
        """Admit a message if its session is live, it breaks no policy and no limit is hit."""
        session = await self._sessions.get(input.session_id)
        if session is None or not session.usable(time.time()):
            return Admission(
                False, ErrorCode.SESSION_INVALID, "This session has ended or was revoked."
            )
        return await self._admission.admit(input.session_id, input.user_id, input.message)
