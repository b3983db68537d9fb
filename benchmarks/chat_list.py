"""The chat list's visibility lag, and the time from "new chat" to its first reply.

`python -m benchmarks.chat_list [--rounds N]` starts its own stack (tests/stack.py: the
Temporal dev server, Redis, a worker with the built-in responder, the API) and, per round, as
one device: creates a chat (`POST /api/chats`) and times until `GET /api/chats` lists it;
opens it by id over a ticketed socket, sends a message and times until the reply is complete;
times until the list shows the title the message gave; renames it and times until the list
shows the new title. Prints the median and the worst of each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
import websockets
from websockets.typing import Subprotocol

from tests.stack import running_stack

POLL_SECONDS = 0.02


async def _until(check: Callable[[], Awaitable[bool]]) -> float:
    started = time.perf_counter()
    while not await check():
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter() - started


async def _round(http: httpx.AsyncClient, ws_url: str, index: int) -> dict[str, float]:
    async def listed(predicate: Callable[[dict[str, object]], bool]) -> bool:
        chats = (await http.get("/api/chats", params={"limit": 100})).json()["chats"]
        return any(predicate(chat) for chat in chats)

    started = time.perf_counter()
    created = (await http.post("/api/chats")).json()
    chat_id = created["chat"]["chat_id"]
    lag_create = await _until(lambda: listed(lambda c: c["chat_id"] == chat_id))

    ticket = (await http.post("/api/auth/ws-ticket")).json()["ticket"]
    protocols = [Subprotocol("chat.v1"), Subprotocol(f"ticket.{ticket}")]
    # Timed from the POST: what a person waits from "new chat" to a whole answer, minus typing.
    async with websockets.connect(
        f"{ws_url}/api/ws/guide?chat_id={chat_id}", subprotocols=protocols
    ) as socket:
        message = f"How do I plan a garden, take {index}?"
        await socket.send(json.dumps({"type": "chat_message", "message": message}))
        while json.loads(await socket.recv())["type"] != "chat_response":
            pass
    first_reply = time.perf_counter() - started
    sent_at = time.perf_counter()
    await _until(lambda: listed(lambda c: c["chat_id"] == chat_id and c["title"] == message))
    lag_title = time.perf_counter() - sent_at

    renamed = f"Garden {index}"
    await http.patch(f"/api/chats/{chat_id}", json={"title": renamed})
    lag_rename = await _until(
        lambda: listed(lambda c: c["chat_id"] == chat_id and c["title"] == renamed)
    )
    return {
        "listed after create": lag_create,
        "new chat to first reply": first_reply,
        "title listed after the reply": lag_title,
        "listed after rename": lag_rename,
    }


async def main(rounds: int) -> None:
    with running_stack() as stack:
        async with httpx.AsyncClient(base_url=stack.http_url, timeout=30) as http:
            device = (await http.post("/api/auth/device")).json()["token"]
            http.headers["Authorization"] = f"Bearer {device}"
            results = [await _round(http, stack.ws_url, index) for index in range(rounds)]
    for name in results[0]:
        values = [r[name] * 1000 for r in results]
        print(f"{name:32s} median {statistics.median(values):7.0f} ms  max {max(values):7.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    asyncio.run(main(parser.parse_args().rounds))
