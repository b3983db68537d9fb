"""The page when a reply is cut off, stopped or handed over, in real Chromium on the real stack.

The guide's socket is routed through the test (Playwright's WebSocket routing), which forwards
every frame both ways but can hold back the server's frames: that is how a test gets the page
into the middle of a reply, however fast the agent answers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import Screenshots
from tests.browser.page_helpers import (
    Frame,
    api_down,
    expect_connected,
    guide_log,
    recorded,
    send,
    shown,
    wait_for_replies,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.browser


@dataclass
class RoutedGuide:
    """The page's guide sockets, passing through the test."""

    # The URL of every guide socket the page opened, in order.
    urls: list[str] = field(default_factory=list)
    # Every frame the server sent, whether the page got it or not.
    from_server: list[Frame] = field(default_factory=list)
    # Server frames for which this says True are held back instead of reaching the page.
    hold: Callable[[Frame], bool] | None = None
    held: list[tuple[WebSocketRoute, str]] = field(default_factory=list)
    # Called after each frame that reached the page, with the page's end of the socket.
    after: Callable[[WebSocketRoute, Frame], None] | None = None
    # Every frame the page sent.
    from_page: list[Frame] = field(default_factory=list)
    # A frame to answer a page's frame with, instead of passing it to the server.
    answer: Callable[[Frame], Frame | None] | None = None

    def attach(self, page: Page) -> None:
        page.route_web_socket(re.compile(r"/api/ws/guide(\?|$)"), self._route)

    def release(self) -> None:
        """Let the held frames through, in order, and hold nothing more."""
        self.hold = None
        held, self.held = self.held, []
        for page_end, message in held:
            page_end.send(message)

    def _route(self, page_end: WebSocketRoute) -> None:
        self.urls.append(page_end.url)
        server = page_end.connect_to_server()
        server.on_message(lambda message: self._from_server(page_end, message))
        page_end.on_message(lambda message: self._from_page(page_end, server, message))

    def _from_page(
        self, page_end: WebSocketRoute, server: WebSocketRoute, message: str | bytes
    ) -> None:
        text = message.decode() if isinstance(message, bytes) else message
        frame: Frame = json.loads(text)
        self.from_page.append(frame)
        answer = self.answer(frame) if self.answer is not None else None
        if answer is None:
            server.send(text)
        else:
            page_end.send(json.dumps(answer))

    def _from_server(self, page_end: WebSocketRoute, message: str | bytes) -> None:
        text = message.decode() if isinstance(message, bytes) else message
        frame: Frame = json.loads(text)
        self.from_server.append(frame)
        if self.hold is not None and self.hold(frame):
            self.held.append((page_end, text))
            return
        page_end.send(text)
        if self.after is not None:
            self.after(page_end, frame)


def wait_until(page: Page, condition: Callable[[], bool], seconds: float = 15) -> None:
    """Let the page run (and the routes see frames) until `condition` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        page.wait_for_timeout(50)


def cut_from(first_held: str) -> Callable[[Frame], bool]:
    """Hold back the first frame of type `first_held` and every frame after it."""
    cut = False

    def hold(frame: Frame) -> bool:
        nonlocal cut
        cut = cut or frame["type"] == first_held
        return cut

    return hold


def cut_after_first_chunk() -> Callable[[Frame], bool]:
    """Let the first chunk of the reply through, then hold back every frame."""
    chunks = 0

    def hold(frame: Frame) -> bool:
        nonlocal chunks
        if chunks > 0:
            return True
        chunks += frame["type"] == "chat_chunk"
        return False

    return hold


@pytest.mark.parametrize(
    "cut", ["before-the-ack", "mid-stream"], ids=["before-the-ack", "mid-stream"]
)
def test_a_cut_off_reply_completes_once_after_an_api_restart(
    page: Page, stack: RunningStack, screenshots: Screenshots, cut: str
) -> None:
    """The server records the message and the reply while the page hears nothing more."""
    guide = RoutedGuide()
    guide.attach(page)
    page.goto("/")
    expect_connected(page)

    guide.hold = (
        cut_from("message_accepted") if cut == "before-the-ack" else cut_after_first_chunk()
    )
    question = "Who can help me map our onboarding process?"
    send(page, "Message the Guide", question)
    wait_until(page, lambda: any(f["type"] == "chat_response" for f in guide.from_server))
    if cut == "mid-stream":
        streaming = guide_log(page).locator('li[data-state="streaming"]')
        expect(streaming).to_have_count(1)
        partial = streaming.locator(".content").get_attribute("data-source") or ""
    else:
        expect(guide_log(page).locator('li[data-state="sending"]')).to_have_count(1)
        partial = ""
    screenshots.take(page, f"reply-cut-off-{cut}")

    guide.hold = None
    guide.held.clear()  # lost with the connection
    with api_down(page, stack):
        screenshots.take(page, "api-stopped-reconnecting")

    expect_connected(page)
    wait_for_replies(guide_log(page), 1)
    screenshots.take(page, "reply-shown-once")
    thread = shown(guide_log(page))
    assert thread == recorded(stack, page, "guide")
    assert [role for role, _ in thread] == ["user", "assistant"]
    assert thread[1][1].startswith(partial)
    assert any("last_event_id=" in url for url in guide.urls[1:]), "the page did not resume"


def test_stop_asks_the_server_to_cancel_the_reply_in_progress(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    guide = RoutedGuide()
    guide.attach(page)
    page.goto("/")
    expect_connected(page)

    # The page hears nothing of the reply, so it is still waiting when Stop is pressed.
    guide.hold = lambda frame: frame["type"] in {"chat_chunk", "chat_response"}
    send(page, "Message the Guide", "Tell me everything about the platform")
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    screenshots.take(page, "reply-in-progress-with-stop")
    stop.click()
    wait_until(page, lambda: any(frame["type"] == "cancel" for frame in guide.from_page))
    accepted = next(f for f in guide.from_server if f["type"] == "message_accepted")
    cancel = next(f for f in guide.from_page if f["type"] == "cancel")
    assert cancel["message_id"] == accepted["message_id"]

    # The built-in agent has finished by now, so the server leaves the reply as it is; a
    # slower agent's reply would end `cancelled`. Either way the page shows what was recorded.
    guide.release()
    wait_until(page, lambda: any(f["type"] == "chat_response" for f in guide.from_server))
    expect(guide_log(page).locator('li[data-role="assistant"]')).to_have_count(1)
    expect(guide_log(page).locator('li[data-state="streaming"]')).to_have_count(0)
    expect(stop).to_have_count(0)
    assert shown(guide_log(page)) == recorded(stack, page, "guide")
    screenshots.take(page, "reply-after-stop")


def test_stop_on_a_server_without_cancel_says_so_and_hides_the_button(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    guide = RoutedGuide()
    # What a server from before `cancel` existed answers.
    guide.answer = lambda frame: (
        {
            "type": "error",
            "event_id": None,
            "agent_type": "guide",
            "pillar": None,
            "code": "unknown_type",
            "message": "Unknown frame type 'cancel'; expected one of chat_message, resume, ping.",
        }
        if frame["type"] == "cancel"
        else None
    )
    guide.attach(page)
    page.goto("/")
    expect_connected(page)

    guide.hold = lambda frame: frame["type"] in {"chat_chunk", "chat_response"}
    send(page, "Message the Guide", "Tell me everything about the platform")
    stop = page.get_by_role("button", name="Stop")
    stop.click()
    expect(page.get_by_role("alert").filter(has_text="cannot stop a reply")).to_be_visible()
    expect(stop).to_have_count(0)
    screenshots.take(page, "stop-not-supported-notice")

    guide.release()
    wait_for_replies(guide_log(page), 1)
    assert shown(guide_log(page)) == recorded(stack, page, "guide")
