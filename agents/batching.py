"""Grouping a reply's deltas into frames: the first at once, then at most one per window.

A model streams a token every few milliseconds, and every frame costs a Redis round trip, a
relay hop and a socket write. Joining what arrives within a short window keeps the stream
looking live while cutting that cost by the number of deltas per window.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator


async def batch_deltas(
    deltas: AsyncIterator[str], window_seconds: float
) -> AsyncGenerator[str, None]:
    """The deltas joined so that two batches are at least `window_seconds` apart.

    The first delta is yielded at once; later ones wait at most one window. The batches
    concatenate to exactly the deltas.
    """
    loop = asyncio.get_running_loop()
    buffer: list[str] = []
    next_allowed = 0.0  # the earliest time the next batch may go out
    upcoming: asyncio.Future[str] | None = None
    try:
        while True:
            if upcoming is None:
                upcoming = asyncio.ensure_future(anext(deltas))
            wait = max(0.0, next_allowed - loop.time()) if buffer else None
            done, _ = await asyncio.wait({upcoming}, timeout=wait)
            if not done:  # the window closed with text waiting
                yield "".join(buffer)
                buffer.clear()
                next_allowed = loop.time() + window_seconds
                continue
            try:
                buffer.append(upcoming.result())
            except StopAsyncIteration:
                break
            finally:
                upcoming = None
            if loop.time() >= next_allowed:
                yield "".join(buffer)
                buffer.clear()
                next_allowed = loop.time() + window_seconds
        if buffer:
            yield "".join(buffer)
    finally:
        if upcoming is not None:
            upcoming.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await upcoming
        # A pending read cancelled before it ran leaves the source suspended at a yield; close
        # it so the model stream behind it stops now rather than when it is collected.
        aclose = getattr(deltas, "aclose", None)
        if aclose is not None:
            await aclose()
