"""The questions agents ask a session's person, kept in Redis so that any edge can list them.

The workflow is the authority on whether a question is open (its update refuses a late
answer); this book is what a socket shows on (re)connect and what a REST client lists, without
a round trip to the workflow. One hash per session: question id -> the question as asked, and
its resolution once there is one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis.asyncio as redis

from foundations.server_events import QuestionAsked, QuestionResolved, parse


@dataclass(frozen=True)
class StoredQuestion:
    asked: QuestionAsked
    resolved: QuestionResolved | None = None

    @property
    def open(self) -> bool:
        return self.resolved is None


class QuestionBook:
    """Questions by session: asked, resolved, listed."""

    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self._redis = client
        self._retention_seconds = retention_seconds

    @staticmethod
    def _key(session_id: str) -> str:
        return f"chat:{session_id}:questions"

    async def asked(self, session_id: str, question: QuestionAsked) -> None:
        """Keep the question (once: a retried step does not reopen a resolved one)."""
        key = self._key(session_id)
        entry = json.dumps({"asked": question.model_dump_json()})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, question.question_id, entry)
            pipe.expire(key, self._retention_seconds)
            await pipe.execute()

    async def resolved(self, session_id: str, resolution: QuestionResolved) -> bool:
        """Mark the question resolved; False when it already was (nothing changes then)."""
        stored = await self.get(session_id, resolution.question_id)
        if stored is None or not stored.open:
            return False
        entry = json.dumps(
            {"asked": stored.asked.model_dump_json(), "resolved": resolution.model_dump_json()}
        )
        await self._redis.hset(self._key(session_id), resolution.question_id, entry)
        return True

    async def get(self, session_id: str, question_id: str) -> StoredQuestion | None:
        raw = await self._redis.hget(self._key(session_id), question_id)
        return _stored(raw) if raw is not None else None

    async def all(self, session_id: str) -> list[StoredQuestion]:
        """Every question of the session, oldest first."""
        raw = await self._redis.hvals(self._key(session_id))
        questions = [_stored(value) for value in raw]
        return sorted(questions, key=lambda q: q.asked.deadline)


def _stored(raw: bytes | str) -> StoredQuestion:
    entry = json.loads(raw)
    asked = parse(entry["asked"])
    resolved = parse(entry["resolved"]) if entry.get("resolved") else None
    assert isinstance(asked, QuestionAsked)
    assert resolved is None or isinstance(resolved, QuestionResolved)
    return StoredQuestion(asked, resolved)
