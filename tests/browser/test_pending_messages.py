"""A message sent while the API is down is kept by the page until the server acknowledges it:
through a reload, and through a switch to another pillar (whose socket stays open, so the reply
arrives in the background and marks the tab), it is sent once the API is back, with its
original client_message_id, and answered once.

The page's own files are served to the browser from frontend/dist by the test (as a browser's
cache would), so that the page can load while the API process, which normally serves them, is
stopped. Its sockets and REST calls still go to the API. Chromium counts a page the test
answered for as coming from the public internet, and blocks its connections to the loopback
API unless the local network access permission is granted.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import ROOT, Screenshots
from tests.browser.page_helpers import (
    Frames,
    api_down,
    expect_connected,
    liaison_log,
    pending_in_storage,
    recorded,
    send,
    shown,
    wait_for_replies,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

DIST = ROOT / "frontend" / "dist"
CONTENT = "/liaison/content"


def serve_page_from_dist(page: Page, base_url: str) -> None:
    """Answer every request for the page's files from frontend/dist; /api/ goes to the API."""

    def fulfill(route: Route) -> None:
        path = urlparse(route.request.url).path.lstrip("/") or "index.html"
        file = (DIST / path).resolve()
        if DIST.resolve() in file.parents and file.is_file():
            route.fulfill(path=file)
        else:
            route.fulfill(status=404, body="not found")

    page.context.grant_permissions(["local-network-access"])
    page.route(re.compile(rf"^{re.escape(base_url)}/(?!api/)"), fulfill)


@pytest.mark.parametrize("leave", ["reload", "switch-tab"])
def test_a_message_sent_while_the_api_is_down_is_answered_once_after_leaving_the_page(
    page: Page, stack: RunningStack, screenshots: Screenshots, leave: str
) -> None:
    frames = Frames()
    frames.watch(page)
    serve_page_from_dist(page, stack.http_url)
    page.goto("/#content")
    expect_connected(page)
    log = liaison_log(page, "Content")

    with api_down(page, stack):
        question = "Can you parse the invoices I upload as PDF?"
        send(page, "Message the Content liaison", question)
        sending = log.locator('li[data-state="sending"]')
        expect(sending).to_have_count(1)
        expect(sending).to_contain_text(question)
        expect(sending).to_contain_text("Sending…")
        screenshots.take(page, "sent-while-api-down")
        stored = pending_in_storage(page)
        assert [entry["message"] for entry in stored] == [question]
        client_message_id = stored[0]["clientMessageId"]

        if leave == "reload":
            page.reload()
            # Still down: the reloaded page shows the message it kept, not sent yet.
            expect(page.get_by_role("status")).not_to_have_attribute("data-status", "connected")
            expect(sending).to_have_count(1)
            expect(sending).to_contain_text(question)
            screenshots.take(page, "reloaded-while-api-down")
        else:
            page.get_by_role("tab", name="Insights").click()
            expect(log).to_have_count(0)
            screenshots.take(page, "switched-to-insights-while-api-down")

    if leave == "switch-tab":
        # Back up: the Content liaison's socket stays open while its tab is not shown, so the
        # message goes and its reply arrives in the background, marked on the Content tab.
        expect_connected(page)
        content_tab = page.get_by_role("tab", name="Content")
        expect(content_tab).to_have_accessible_name(re.compile(r"^Content\s+1 unread$"))
        expect(content_tab.locator(".unread-dot")).to_have_text("1")
        expect(page).to_have_title("(1) Agent chat")
        assert pending_in_storage(page) == []
        screenshots.take(page, "unread-mark-on-content")
        content_tab.click()
        expect(content_tab).to_have_accessible_name("Content")
        expect(page).to_have_title("Agent chat")

    expect_connected(page)
    wait_for_replies(log, 1)
    screenshots.take(page, "answered-once")

    thread = shown(log)
    assert thread == recorded(stack, page, "content_liaison")
    assert [role for role, _ in thread] == ["user", "assistant"]
    assert thread[0] == ("user", question)
    sent = frames.sent_of(CONTENT, "chat_message")
    assert sent, "the page never sent the message"
    assert {frame["client_message_id"] for frame in sent} == {client_message_id}
    accepted = frames.of(CONTENT, "message_accepted")
    assert {frame["client_message_id"] for frame in accepted} == {client_message_id}
    assert pending_in_storage(page) == []
    expect(page.get_by_text("Sending…")).to_have_count(0)
