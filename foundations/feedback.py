"""Feedback on replies: one rating per reply and user, the latest counts, kept as long as the
history it rates (`session_ttl_seconds`).

Each rating is stored with what produced the reply (the conversation, the agent that wrote it,
the capability its turn ran, the reply provider) and the user's message it answered, so that
exported feedback (`python -m foundations.feedback`, `make feedback-export`) can become new
cases for the router's evaluation (agents/evaluate_routing.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import redis.asyncio as redis

from agents.catalog import AgentType

_PREFIX = "feedback:"

# Stores the rating and returns the one it replaces ("" for none), atomically: two tabs
# rating at once still count one first rating.
_GIVE = """
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if old then return cjson.decode(old)['rating'] end
return ''
"""

Change = Literal["new", "changed", "same"]


@dataclass(frozen=True)
class ReplyFeedback:
    """A user's rating of one reply, with what produced the reply."""

    session_id: str
    user_id: str
    # The reply rated, and the user message it answered.
    message_id: str
    in_reply_to: str
    rating: Literal["up", "down"]
    # The conversation's agent, and the one that wrote the reply: the turn's route.
    conversation: AgentType
    author: AgentType
    given_at: str
    reasons: list[str] = field(default_factory=list)
    comment: str | None = None
    capability: str | None = None
    provider: str | None = None
    # The user's message, so the route can be evaluated again.
    message: str = ""

    def case(self) -> dict[str, Any]:
        """A routing case for agents/evaluate_routing.py: a thumbs up confirms the route (the
        author's pillar, or "guide"); a thumbs down leaves `label` null for a person to set,
        and the evaluation skips it until then."""
        pillar = self.author.pillar
        label = (pillar.value if pillar else "guide") if self.rating == "up" else None
        return {
            "text": self.message,
            "label": label,
            "kind": "feedback",
            "window": [],
            "route": f"{self.conversation.value}->{self.author.value}",
            **{k: v for k, v in asdict(self).items() if k not in ("message",)},
        }


class FeedbackStore:
    """Ratings in Redis, one key per reply and user."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._redis = client
        self._ttl_seconds = ttl_seconds
        self._give = client.register_script(_GIVE)

    async def give(self, feedback: ReplyFeedback) -> Change:
        """Store the rating, replacing this user's earlier one of the reply; says which it was."""
        key = f"{_PREFIX}{feedback.session_id}:{feedback.message_id}:{feedback.user_id}"
        body = json.dumps(asdict(feedback), ensure_ascii=False)
        old = await self._give(keys=[key], args=[body, self._ttl_seconds])
        old = old.decode() if isinstance(old, bytes) else old
        if not old:
            return "new"
        return "same" if old == feedback.rating else "changed"

    async def all(self) -> AsyncIterator[ReplyFeedback]:
        """Every stored rating, in no particular order."""
        async for key in self._redis.scan_iter(match=f"{_PREFIX}*", count=500):
            raw = await self._redis.get(key)
            if raw is not None:
                row = json.loads(raw)
                row["conversation"] = AgentType(row["conversation"])
                row["author"] = AgentType(row["author"])
                yield ReplyFeedback(**row)


async def export(store: FeedbackStore) -> list[str]:
    """Every rating as a JSONL line of a routing case."""
    return [json.dumps(feedback.case(), ensure_ascii=False) async for feedback in store.all()]


async def _main(path: Path | None) -> int:
    from foundations.clients import open_redis
    from foundations.settings import Settings

    settings = Settings()
    client = open_redis(settings)
    try:
        lines = await export(FeedbackStore(client, settings.session_ttl_seconds))
    finally:
        await client.aclose()
    text = "".join(line + "\n" for line in lines)
    if path is None:
        sys.stdout.write(text)
    else:
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    print(f"exported {len(lines)} ratings", file=sys.stderr)
    return 0


if __name__ == "__main__":
    # CLI: `python -m foundations.feedback [--out FILE]`, then
    # `python -m agents.evaluate_routing --data FILE` evaluates the router on them.
    parser = argparse.ArgumentParser(description="Export reply feedback as routing cases.")
    parser.add_argument("--out", type=Path, help="the .jsonl file to write (default: stdout)")
    raise SystemExit(asyncio.run(_main(parser.parse_args().out)))
