"""The Communication Foundation: it alone owns real-time communication state in Redis.

For each conversation (one session talking to one agent type) it keeps
- an event stream (`XADD`), from which any API process replays what a socket missed;
- a live channel (`PUBLISH`), through which every API process relays new events at once;
- the message history, appended together with its event so neither can exist without the other;
and for each session the registry of linked WebSocket connections.
Nothing else in the platform touches these keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis

from agents.catalog import AgentType
from foundations.server_events import AnyServerEvent, RecordedMessage, event_body, history_entry
from foundations.tracing import traced

# Appends one event to the stream and relays it live, atomically.
_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'f', ARGV[2])
redis.call('PUBLISH', KEYS[2], id .. '|' .. ARGV[2])
return id
"""

# Appends a message to the history and publishes its event, once per message id.
# ARGV[2] (event body) and ARGV[4] (history entry) are JSON objects without their closing
# brace: the script closes them with the conversation's next sequence number, assigned here so
# that a retried write neither skips nor repeats a number.
# Returns "event_id|seq|owner" of the first write of this message id.
_RECORD = """
local existing = redis.call('HGET', KEYS[3], ARGV[3])
if existing then return existing end
local seq = redis.call('HINCRBY', KEYS[3], '#seq', 1)
local body = ARGV[2] .. ',"seq":' .. seq .. '}'
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'f', body)
redis.call('PUBLISH', KEYS[2], id .. '|' .. body)
local recorded = id .. '|' .. seq .. '|' .. ARGV[7]
redis.call('HSET', KEYS[3], ARGV[3], recorded)
redis.call('RPUSH', KEYS[4], ARGV[4] .. ',"seq":' .. seq .. ',"event_id":"' .. id .. '"}')
local excess = redis.call('LLEN', KEYS[4]) - tonumber(ARGV[5])
if excess > 0 then
  -- Messages leaving the history leave the recorded ids too, so that neither grows forever.
  for _, entry in ipairs(redis.call('LPOP', KEYS[4], excess)) do
    redis.call('HDEL', KEYS[3], cjson.decode(entry)['message_id'])
  end
end
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('EXPIRE', KEYS[4], ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return recorded
"""


# The history entries with the given sequence numbers (false where trimmed away or not yet
# written). Every sequence number is appended to the history once, in order, so the entry of
# seq `s` sits `last - s` places before the end.
_BY_SEQ = """
local last = tonumber(redis.call('HGET', KEYS[1], '#seq') or '0')
local found = {}
for i, wanted in ipairs(ARGV) do
  local back = last - tonumber(wanted)
  found[i] = back >= 0 and redis.call('LINDEX', KEYS[2], -(back + 1)) or false
end
return found
"""


# The last ARGV[2] history entries before sequence number ARGV[1] (0: the newest ones).
_BEFORE_SEQ = """
local last = tonumber(redis.call('HGET', KEYS[1], '#seq') or '0')
local before = tonumber(ARGV[1])
if before <= 0 or before > last + 1 then before = last + 1 end
local stop = -(last - before + 2)
return redis.call('LRANGE', KEYS[2], stop - tonumber(ARGV[2]) + 1, stop)
"""


@dataclass(frozen=True)
class Conversation:
    """One session talking to one agent type."""

    session_id: str
    agent_type: AgentType

    @property
    def _prefix(self) -> str:
        return f"chat:{self.session_id}:{self.agent_type.value}"

    @property
    def stream_key(self) -> str:
        return f"{self._prefix}:events"

    @property
    def channel(self) -> str:
        return f"{self._prefix}:live"

    @property
    def history_key(self) -> str:
        return f"{self._prefix}:history"

    @property
    def recorded_key(self) -> str:
        return f"{self._prefix}:recorded"


def event_id_key(event_id: str) -> tuple[int, int]:
    """Stream ids order as (milliseconds, sequence)."""
    milliseconds, _, sequence = event_id.partition("-")
    return int(milliseconds), int(sequence or 0)


@dataclass(frozen=True)
class Event:
    """A server frame as stored: its stream id and its JSON body without the id."""

    event_id: str
    body: str
    # Relayed as it happened, not read back from the stream.
    live: bool = False

    def frame(self) -> str:
        # The body is a JSON object; splicing the id in avoids a parse on the hot path.
        return f'{{"event_id":"{self.event_id}",{self.body[1:]}'


@dataclass(frozen=True)
class Recorded:
    """Where a message landed: its event, its sequence number, who wrote it first."""

    event_id: str
    seq: int
    owner: str


@dataclass(frozen=True)
class Snapshot:
    """A conversation's recorded messages, and the event after which the stream completes them
    ("0-0": from the start): replies still streaming are replayed from there."""

    messages: list[dict[str, Any]]
    message_count: int
    event_id: str


@dataclass(frozen=True)
class Replay:
    """What a socket missed since an event id."""

    events: list[Event]
    # True when the stream was trimmed past the requested id: some events are gone.
    gap: bool


class CommunicationFoundation:
    """Event streams, live relay, message history and connection registry, over Redis."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream_max_events: int,
        history_max_messages: int,
        retention_seconds: int,
    ) -> None:
        self._redis = client
        self._stream_max_events = stream_max_events
        self._history_max_messages = history_max_messages
        self._retention_seconds = retention_seconds
        self._publish = client.register_script(_PUBLISH)
        self._record = client.register_script(_RECORD)
        self._by_seq = client.register_script(_BY_SEQ)
        self._before_seq = client.register_script(_BEFORE_SEQ)

    # --- writing -------------------------------------------------------------------------

    @traced("redis publish")
    async def publish(self, conversation: Conversation, event: AnyServerEvent) -> str:
        """Append an event to the conversation and relay it live; returns its event id."""
        event_id = await self._publish(
            keys=[conversation.stream_key, conversation.channel],
            args=[self._stream_max_events, event_body(event)],
        )
        return text(event_id)

    @traced("redis record")
    async def record(
        self,
        conversation: Conversation,
        message_id: str,
        message: RecordedMessage,
        event: AnyServerEvent,
        owner: str = "",
    ) -> Recorded:
        """Append a message to the history and publish its event, once per message id.

        Both `message` and `event` get the message's sequence number as `seq`, and `message`
        its event id as `event_id`: the history is complete up to that event. A second call
        with the same message id changes nothing and returns what the first one recorded.
        """
        recorded = await self._record(
            keys=[
                conversation.stream_key,
                conversation.channel,
                conversation.recorded_key,
                conversation.history_key,
            ],
            args=[
                self._stream_max_events,
                event_body(event)[:-1],
                message_id,
                history_entry(message)[:-1],
                self._history_max_messages,
                self._retention_seconds,
                owner,
            ],
        )
        event_id, seq, first_owner = text(recorded).split("|", 2)
        return Recorded(event_id=event_id, seq=int(seq), owner=first_owner)

    async def forget_session(self, session_id: str, within_seconds: int) -> None:
        """Let every conversation of a closed session (history, streams, recorded ids) and its
        connection registry expire within `within_seconds`."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for agent_type in AgentType:
                conversation = Conversation(session_id, agent_type)
                for key in (
                    conversation.stream_key,
                    conversation.history_key,
                    conversation.recorded_key,
                ):
                    pipe.expire(key, within_seconds)
            pipe.expire(self._connections_key(session_id), within_seconds)
            await pipe.execute()

    # --- reading -------------------------------------------------------------------------

    async def messages(self, conversation: Conversation, seqs: list[int]) -> dict[int, str]:
        """The contents of the messages with these sequence numbers, where still recorded."""
        if not seqs:
            return {}
        raw = await self._by_seq(
            keys=[conversation.recorded_key, conversation.history_key], args=seqs
        )
        found: dict[int, str] = {}
        for item in raw:
            if item:
                message = json.loads(item)
                found[int(message["seq"])] = str(message["content"])
        return found

    async def is_recorded(self, conversation: Conversation, message_id: str) -> bool:
        """Whether a message with this id is in the conversation's history."""
        return bool(await self._redis.hexists(conversation.recorded_key, message_id))

    async def entry(self, conversation: Conversation, message_id: str) -> dict[str, Any] | None:
        """The history entry of `message_id`; None when it was never recorded or is gone."""
        recorded = await self._redis.hget(conversation.recorded_key, message_id)
        if recorded is None:
            return None
        seq = int(text(recorded).split("|", 2)[1])
        raw = await self._by_seq(
            keys=[conversation.recorded_key, conversation.history_key], args=[seq]
        )
        return json.loads(raw[0]) if raw and raw[0] else None

    async def history(self, conversation: Conversation, limit: int) -> list[dict[str, Any]]:
        """The last `limit` messages of the conversation, oldest first."""
        raw = await self._redis.lrange(conversation.history_key, -limit, -1)
        return [json.loads(item) for item in raw]

    async def snapshot(
        self, conversation: Conversation, limit: int, max_bytes: int | None = None
    ) -> Snapshot:
        """The last `limit` messages (as many of them as fit in `max_bytes`), how many there
        are, and where to replay events from."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(conversation.history_key, -limit, -1)
            pipe.llen(conversation.history_key)
            raw, count = await pipe.execute()
        messages = [json.loads(item) for item in _newest_within(raw, max_bytes)]
        return Snapshot(messages, int(count), _replay_point(messages))

    async def page(
        self, conversation: Conversation, before_seq: int, limit: int, max_bytes: int
    ) -> list[dict[str, Any]]:
        """Up to `limit` messages before message `before_seq` (0: the newest), as many as fit
        in `max_bytes`, oldest first."""
        raw = await self._before_seq(
            keys=[conversation.recorded_key, conversation.history_key], args=[before_seq, limit]
        )
        return [json.loads(item) for item in _newest_within(raw, max_bytes)]

    async def events_after(self, conversation: Conversation, event_id: str) -> Replay:
        """Every event after `event_id`, and whether some were trimmed away before it."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xrange(conversation.stream_key, min=f"({event_id}", max="+")
            pipe.xinfo_stream(conversation.stream_key)
            entries, info = await pipe.execute(raise_on_error=False)
        events = [Event(text(entry_id), text(fields[b"f"])) for entry_id, fields in entries]
        # No stream yet (an error from XINFO): nothing was ever trimmed.
        gap = not isinstance(info, Exception) and _trimmed_past(info, event_id)
        return Replay(events, gap)

    # --- connection registry -------------------------------------------------------------

    async def has_message(self, conversation: Conversation, message_id: str) -> bool:
        """Whether `message_id` was recorded in the conversation (kept as long as its history)."""
        return bool(await self._redis.hexists(conversation.recorded_key, message_id))

    def _connections_key(self, session_id: str) -> str:
        return f"chat:{session_id}:connections"

    async def link_connection(
        self, session_id: str, connection_id: str, info: dict[str, Any]
    ) -> None:
        key = self._connections_key(session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, connection_id, _dumps(info))
            pipe.expire(key, self._retention_seconds)
            await pipe.execute()

    async def unlink_connection(self, session_id: str, connection_id: str) -> None:
        await self._redis.hdel(self._connections_key(session_id), connection_id)

    async def connections(self, session_id: str) -> dict[str, dict[str, Any]]:
        raw = await self._redis.hgetall(self._connections_key(session_id))
        return {text(key): json.loads(value) for key, value in raw.items()}


def _newest_within(raw: list[bytes], max_bytes: int | None) -> list[bytes]:
    """The newest of `raw` (oldest first) whose stored sizes add up to at most `max_bytes`;
    always the newest one, so that a client sees where the conversation stands."""
    if max_bytes is None:
        return raw
    kept = 0
    total = 0
    for item in reversed(raw):
        total += len(item)
        if total > max_bytes and kept:
            break
        kept += 1
    return raw[len(raw) - kept :]


def _trimmed_past(info: dict[str, Any], event_id: str) -> bool:
    """Whether events after `event_id` may have been trimmed from a stream (its XINFO).

    Trimming removes the oldest entries, so a client is safe while its event id is at or
    after the oldest entry still kept. Just before it is reported as a gap too: the stream
    cannot tell whether anything lay between.
    """
    if info["entries-added"] == info["length"]:
        return False
    first = info["first-entry"]
    if not first:
        return event_id_key(event_id) < event_id_key(text(info["last-generated-id"]))
    return event_id_key(event_id) < event_id_key(text(first[0]))


def _replay_point(messages: list[dict[str, Any]]) -> str:
    """The event after which a client that has `messages` must replay the stream.

    Turns of a conversation run in order, so the user messages after the last reply are the
    ones still being answered: replaying from the first of them brings the streaming reply's
    earlier chunks too. With none, the history is complete up to its last message.
    """
    last_reply = max((i for i, m in enumerate(messages) if m["role"] != "user"), default=-1)
    unanswered = messages[last_reply + 1 :]
    if unanswered:
        return str(unanswered[0]["event_id"])
    return str(messages[-1]["event_id"]) if messages else "0-0"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def text(value: bytes | str) -> str:
    """Redis replies as str, whether the client decodes them or not."""
    return value.decode() if isinstance(value, bytes) else value
