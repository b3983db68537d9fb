"""A TCP proxy in front of Redis that can make one kind of command fail as a dropped connection
would, to reach failure paths a whole-server restart hits only by chance."""

from __future__ import annotations

import asyncio
import contextlib


class RedisProxy:
    """Forwards every connection to Redis; while `drop` is set, a connection that sends a
    command containing it is cut instead (the client sees a connection error)."""

    def __init__(self, redis_port: int) -> None:
        self._redis_port = redis_port
        self._server: asyncio.Server | None = None
        self.drop: bytes | None = None
        self.dropped = 0
        # While `hold` is set, a command containing it waits, as on a server that stalls.
        self.hold: bytes | None = None
        self.held = 0

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            # Open connections are cut with the server (Python >= 3.12.1 does so itself).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            redis_in, redis_out = await asyncio.open_connection("127.0.0.1", self._redis_port)
        except OSError:
            client_out.close()
            return
        upstream = asyncio.create_task(self._pipe(client_in, redis_out, watch=True))
        downstream = asyncio.create_task(self._pipe(redis_in, client_out, watch=False))
        await asyncio.wait((upstream, downstream), return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, downstream):
            task.cancel()
        await asyncio.gather(upstream, downstream, return_exceptions=True)
        for writer in (client_out, redis_out):
            writer.close()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, watch: bool
    ) -> None:
        while chunk := await source.read(65536):
            if watch and self.drop is not None and self.drop in chunk.upper():
                self.dropped += 1
                return
            if watch and self.hold is not None and self.hold in chunk.upper():
                self.held += 1
                while self.hold is not None:
                    await asyncio.sleep(0.05)
            sink.write(chunk)
            await sink.drain()
