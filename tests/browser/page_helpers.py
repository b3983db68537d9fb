"""What the browser tests do on the chat page and read back from it and from the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, WebSocket, expect

from tests.stack import RunningStack

Frame = dict[str, Any]


@dataclass
class Frames:
    """Every frame the page received and sent on its sockets, by endpoint path, across reloads."""

    received: dict[str, list[Frame]] = field(default_factory=dict)
    sent: dict[str, list[Frame]] = field(default_factory=dict)

    def watch(self, page: Page) -> None:
        page.on("websocket", self._socket_opened)

    def _socket_opened(self, socket: WebSocket) -> None:
        path = socket.url.split("?")[0].split("/api/ws", 1)[-1]
        received = self.received.setdefault(path, [])
        sent = self.sent.setdefault(path, [])
        socket.on("framereceived", lambda payload: received.append(json.loads(payload)))
        socket.on("framesent", lambda payload: sent.append(json.loads(payload)))

    def of(self, path: str, type: str) -> list[Frame]:
        return [frame for frame in self.received.get(path, []) if frame["type"] == type]

    def sent_of(self, path: str, type: str) -> list[Frame]:
        return [frame for frame in self.sent.get(path, []) if frame["type"] == type]


def guide_log(page: Page) -> Locator:
    return page.get_by_role("log", name="Guide conversation")


def liaison_log(page: Page, name: str) -> Locator:
    return page.get_by_role("log", name=f"{name} liaison conversation")


def send(page: Page, box_label: str, message: str) -> None:
    box = page.get_by_role("textbox", name=box_label)
    box.fill(message)
    box.press("Enter")


def wait_for_replies(log: Locator, count: int) -> None:
    """Until the thread holds `count` finished replies and nothing is still streaming."""
    expect(log.locator('li[data-role="assistant"][data-state="complete"]')).to_have_count(count)
    expect(log.locator('li[data-state="streaming"], li[data-state="sending"]')).to_have_count(0)


def shown(log: Locator) -> list[tuple[str, str]]:
    """The thread as the page shows it: (role, text) of each message, in order.

    A reply is rendered from markdown, so its text is the source the page rendered it from.
    """
    return [
        (str(item.get_attribute("data-role")), _text(item.locator(".content")))
        for item in log.locator("li.message").all()
    ]


def _text(content: Locator) -> str:
    source = content.get_attribute("data-source")
    return content.inner_text() if source is None else source


def recorded(stack: RunningStack, page: Page, agent_type: str) -> list[tuple[str, str]]:
    """The conversation as the server recorded it, read over REST with the page's session."""
    token = page.evaluate("localStorage.getItem('agentChat.sessionToken')")
    assert token, "the page kept no session token"
    response = httpx.get(
        f"{stack.http_url}/api/chat/conversation/history",
        params={"session_token": token, "agent_type": agent_type},
        timeout=10,
    )
    response.raise_for_status()
    return [(message["role"], message["content"]) for message in response.json()["messages"]]


@contextmanager
def api_down(page: Page, stack: RunningStack) -> Iterator[None]:
    """The API process stopped, and the page seeing it, until the block ends."""
    stack.stop_api()
    try:
        expect(page.get_by_role("status")).not_to_have_attribute("data-status", "connected")
        yield
    finally:
        stack.start_api()


def expect_connected(page: Page) -> None:
    expect(page.get_by_role("status")).to_have_attribute("data-status", "connected")


def pending_in_storage(page: Page) -> list[Frame]:
    """The messages the page keeps in localStorage until the server acknowledges them."""
    entries: list[str] = page.evaluate(
        """() => Object.keys(localStorage)
            .filter((key) => key.startsWith('agentChat.pending.'))
            .map((key) => localStorage.getItem(key))"""
    )
    return [json.loads(entry) for entry in entries]
