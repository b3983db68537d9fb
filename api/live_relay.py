"""The live relay: one Redis subscription per API process, fanned out to its sockets.

Only the edge holds sockets, so only the edge relays; the Communication Foundation publishes
the events (foundations/communication.py) and keeps the streams they are replayed from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import redis.asyncio as redis

from foundations.communication import Conversation, Event, text
from foundations.metrics import REDIS_ERRORS

logger = logging.getLogger(__name__)

# Put on live queues after the relay lost its Redis connection: events may have been missed
# and must be read from the stream.
RESYNC = Event("resync", "{}")


class LiveQueue:
    """One socket's live events, bounded by `maxsize` (0: unbounded).

    Once it was full when an event came it is `overflowed`: it drops what it held, takes no
    more, wakes its consumer and calls `on_overflow`; the consumer catches up from the stream.
    Leaner than an asyncio.Queue (three deques and an Event, about 6 KB traced per idle
    socket): a list and at most one waiting consumer.
    """

    __slots__ = ("_events", "_maxsize", "_waiter", "on_overflow", "overflowed")

    def __init__(self, maxsize: int = 0) -> None:
        self._events: list[Event] = []
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        # Called once, when the queue overflows: the consumer may be stuck elsewhere.
        self.on_overflow: Callable[[], None] | None = None

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        if self._maxsize and len(self._events) >= self._maxsize:
            self.overflowed = True
            # Never delivered now (the consumer resumes from the stream): free them at once.
            self._events.clear()
            if self.on_overflow is not None:
                self.on_overflow()
        else:
            self._events.append(event)
        self._wake()

    def put_nowait(self, event: Event) -> None:
        """Queue `event`; asyncio.QueueFull when the queue is full (nothing is marked)."""
        if self._maxsize and len(self._events) >= self._maxsize:
            raise asyncio.QueueFull
        self._events.append(event)
        self._wake()

    async def get(self) -> Event | None:
        """The next event, waiting for one; None once the queue overflowed."""
        while not self._events:
            if self.overflowed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.pop(0)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class LiveRelay:
    """One Redis subscription per API process, fanned out to the local sockets.

    Every socket of a conversation on this process gets its own queue; the relay subscribes
    to a conversation's channel while at least one socket listens to it.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._pubsub = client.pubsub()
        self._listeners: dict[str, set[LiveQueue]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._control_channel = "chat:relay-control"
        self._resync_pending = False

    async def start(self) -> None:
        await self._pubsub.subscribe(self._control_channel)
        self._task = asyncio.create_task(self._run(), name="live-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    async def subscribe(self, conversation: Conversation, max_events: int = 0) -> LiveQueue:
        """A queue of the conversation's live events, from the moment this returns.

        With `max_events`, a queue that fills up is marked `overflowed` and gets no more
        events: its consumer has fallen behind and must catch up from the stream.
        """
        queue = LiveQueue(max_events)
        channel = conversation.channel
        listeners = self._listeners.setdefault(channel, set())
        listeners.add(queue)
        if len(listeners) == 1:
            confirmed = self._confirmed[channel] = asyncio.Event()
            await self._pubsub.subscribe(channel)
            await confirmed.wait()
            del self._confirmed[channel]
        elif channel in self._confirmed:  # another socket's subscription is on its way
            await self._confirmed[channel].wait()
        return queue

    async def unsubscribe(self, conversation: Conversation, queue: LiveQueue) -> None:
        channel = conversation.channel
        listeners = self._listeners.get(channel)
        if listeners is None:
            return
        listeners.discard(queue)
        if not listeners:
            del self._listeners[channel]
            await self._pubsub.unsubscribe(channel)

    async def _run(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (redis.ConnectionError, OSError):
                logger.warning("live relay lost its Redis connection; resubscribing")
                REDIS_ERRORS.inc()
                self._resync_pending = True
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = text(message["channel"])
            if message["type"] == "subscribe":
                if self._resync_pending:
                    # Subscribed again (one command for every channel): whatever was published
                    # while the connection was down is in the streams; tell the sockets.
                    self._resync_pending = False
                    # Redis dropped the pool's idle connections too, and each would fail its
                    # next command: the sockets' stream reads, first of all.
                    await self._pool.disconnect(inuse_connections=False)
                    for queues in self._listeners.values():
                        for queue in queues:
                            queue.offer(RESYNC)
                confirmed = self._confirmed.get(channel)
                if confirmed is not None:
                    confirmed.set()
                continue
            if message["type"] != "message":
                continue
            event_id, _, body = text(message["data"]).partition("|")
            event = Event(event_id, body, live=True)
            for queue in self._listeners.get(channel, ()):
                queue.offer(event)
