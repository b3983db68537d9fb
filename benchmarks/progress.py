"""Progress lines on stderr while the benchmark runs: what runs now, and how far it got."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable


class Progress:
    """Timestamped lines, plus a ticker for timed phases."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def say(self, text: str) -> None:
        elapsed = int(time.monotonic() - self._started)
        print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {text}", file=sys.stderr, flush=True)

    @contextlib.asynccontextmanager
    async def ticking(
        self, label: str, status: Callable[[], str], every: float = 2.0
    ) -> AsyncIterator[None]:
        """Report `status()` every few seconds while the block runs."""

        async def tick() -> None:
            while True:
                await asyncio.sleep(every)
                self.say(f"  {label}: {status()}")

        task = asyncio.create_task(tick())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
