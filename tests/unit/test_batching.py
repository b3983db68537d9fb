"""Delta batching: nothing lost, the first delta at once, later ones at most a window late."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

from agents.batching import batch_deltas


async def timed(deltas: list[tuple[float, str]]) -> AsyncIterator[str]:
    """Yields each delta after its pause (seconds)."""
    for pause, delta in deltas:
        await asyncio.sleep(pause)
        yield delta


async def collect(stream: AsyncIterator[str]) -> list[tuple[float, str]]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    return [(loop.time() - start, batch) async for batch in stream]


async def test_a_burst_goes_out_as_the_first_delta_then_one_batch() -> None:
    words = [(0.0, f"w{n} ") for n in range(50)]
    batches = await collect(batch_deltas(timed(words), 0.05))
    assert [b for _, b in batches] == ["w0 ", "".join(f"w{n} " for n in range(1, 50))]


async def test_a_slow_stream_is_not_held_back() -> None:
    words = [(0.06, "a"), (0.06, "b"), (0.06, "c")]
    batches = await collect(batch_deltas(timed(words), 0.03))
    assert [b for _, b in batches] == ["a", "b", "c"]


async def test_text_waiting_goes_out_when_the_window_closes_even_if_the_model_stalls() -> None:
    words = [(0.0, "first "), (0.0, "second "), (0.5, "late")]
    batches = await collect(batch_deltas(timed(words), 0.05))
    assert [b for _, b in batches] == ["first ", "second ", "late"]
    # "second " did not wait for the stalled model: it left about one window after "first ".
    assert batches[1][0] < 0.2


async def test_batches_join_to_exactly_the_deltas() -> None:
    words = [((n % 7) * 0.004, f"{n},") for n in range(120)]
    batches = await collect(batch_deltas(timed(words), 0.02))
    assert "".join(b for _, b in batches) == "".join(w for _, w in words)
    # Between the first and the last (which leaves as soon as the model is done), batches
    # are a window apart.
    middle = batches[1:-1]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(middle)]
    assert gaps and min(gaps) >= 0.015


async def test_cancelling_the_reader_stops_the_source() -> None:
    stopped = asyncio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                await asyncio.sleep(0.01)
                yield "x"
        finally:
            stopped.set()

    async def read() -> None:
        async for _ in batch_deltas(endless(), 0.02):
            pass

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.1)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await asyncio.wait_for(stopped.wait(), 1)
