"""The live relay: one Redis subscription per API process, fanned out to its sockets.

Only the edge holds sockets, so only the edge relays; the Communication Foundation publishes
the events (foundations/communication.py) and keeps the streams they are replayed from.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as redis

from foundations.communication import Conversation, Event, text
from foundations.metrics import REDIS_ERRORS

logger = logging.getLogger(__name__)

# Put on live queues after the relay lost its Redis connection: events may have been missed
# and must be read from the stream.
RESYNC = Event("resync", "{}")


class LiveQueue(asyncio.Queue[Event]):
    """One socket's live events; `overflowed` is set once it was full when an event came."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.overflowed = asyncio.Event()

    def offer(self, event: Event) -> None:
        if self.overflowed.is_set():
            return
        try:
            self.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed.set()
            # Never delivered now (the consumer resumes from the stream): free them at once.
            while not self.empty():
                self.get_nowait()


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
