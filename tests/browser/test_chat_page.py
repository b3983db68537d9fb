"""The chat page in real Chromium, served by the API, against the real stack.

Each test gets a fresh browser profile, so a fresh session. What the page shows is compared
with what the server recorded (the REST history), so a message shown twice, or a reply with
repeated or missing text, fails the test whatever the agents answer.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshots
from tests.browser.page_helpers import (
    Frames,
    api_down,
    expect_connected,
    guide_log,
    liaison_log,
    recorded,
    send,
    shown,
    wait_for_replies,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.browser


def test_a_guide_reply_streams_into_the_panel(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    frames = Frames()
    frames.watch(page)
    page.goto("/")
    expect_connected(page)
    expect(guide_log(page)).to_contain_text("Ask the Guide")
    screenshots.take(page, "empty-page-connected")

    question = "Where do I upload a spreadsheet of invoices?"
    send(page, "Message the Guide", question)
    wait_for_replies(guide_log(page), 1)
    screenshots.take(page, "guide-reply-streamed")

    response = frames.of("/guide", "chat_response")[0]
    chunks = [
        f for f in frames.of("/guide", "chat_chunk") if f["message_id"] == response["message_id"]
    ]
    assert len(chunks) > 1, "the reply did not arrive in pieces"
    assert "".join(chunk["delta"] for chunk in chunks) == response["message"]
    assert shown(guide_log(page)) == [("user", question), ("assistant", response["message"])]
    assert shown(guide_log(page)) == recorded(stack, page, "guide")


def test_enter_sends_and_shift_enter_adds_a_line(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/")
    expect_connected(page)
    box = page.get_by_role("textbox", name="Message the Guide")
    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    expect(box).to_have_value("first line\nsecond line")
    expect(guide_log(page).locator("li.message")).to_have_count(0)
    screenshots.take(page, "two-lines-typed")

    box.press("Enter")
    expect(box).to_have_value("")
    wait_for_replies(guide_log(page), 1)
    assert shown(guide_log(page))[0] == ("user", "first line\nsecond line")
    assert shown(guide_log(page)) == recorded(stack, page, "guide")
    screenshots.take(page, "multi-line-message-sent")


def test_switching_pillars_and_back_restores_the_thread(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/")
    expect_connected(page)
    content = page.get_by_role("tab", name="Content")
    expect(content).to_have_attribute("aria-selected", "true")
    send(page, "Message the Content liaison", "Parse my PDF invoices")
    wait_for_replies(liaison_log(page, "Content"), 1)
    content_thread = shown(liaison_log(page, "Content"))
    screenshots.take(page, "content-thread")

    page.get_by_role("tab", name="Insights").click()
    expect(liaison_log(page, "Content")).to_have_count(0)
    expect(liaison_log(page, "Insights")).to_contain_text("Ask the Insights liaison")
    send(page, "Message the Insights liaison", "Chart revenue by month")
    wait_for_replies(liaison_log(page, "Insights"), 1)
    screenshots.take(page, "insights-thread")

    # Back with the keyboard: the tabs follow the arrow keys.
    page.get_by_role("tab", name="Insights").focus()
    page.keyboard.press("ArrowLeft")
    expect(content).to_have_attribute("aria-selected", "true")
    expect(content).to_be_focused()
    wait_for_replies(liaison_log(page, "Content"), 1)
    assert shown(liaison_log(page, "Content")) == content_thread
    assert content_thread == recorded(stack, page, "content_liaison")
    screenshots.take(page, "content-thread-restored")


def test_a_handoff_names_both_agents_and_offers_to_switch(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#insights")
    expect_connected(page)
    send(page, "Message the Guide", "Which file formats can I upload, and is CSV supported?")
    expect(guide_log(page)).to_contain_text("Guide -> Content liaison")
    wait_for_replies(guide_log(page), 1)
    # The liaison answers in the guide's thread, under its own name.
    reply = guide_log(page).locator('li[data-role="assistant"]')
    expect(reply.locator(".author")).to_have_text("Content liaison")
    assert shown(guide_log(page)) == recorded(stack, page, "guide")
    screenshots.take(page, "handoff-offered")

    page.get_by_role("button", name="Switch to Content").click()
    expect(page.get_by_role("tab", name="Content")).to_have_attribute("aria-selected", "true")
    expect(liaison_log(page, "Content")).to_be_visible()
    assert page.url.endswith("#content")
    screenshots.take(page, "switched-to-content")


def test_reload_restores_the_history_and_the_tab(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/")
    expect_connected(page)
    send(page, "Message the Guide", "What can the platform do?")
    page.get_by_role("tab", name="Operations").click()
    send(page, "Message the Operations liaison", "Draft an SOP for onboarding")
    wait_for_replies(guide_log(page), 1)
    wait_for_replies(liaison_log(page, "Operations"), 1)
    guide_before = shown(guide_log(page))
    operations_before = shown(liaison_log(page, "Operations"))
    screenshots.take(page, "before-reload")

    page.reload()
    expect(page.get_by_role("tab", name="Operations")).to_have_attribute("aria-selected", "true")
    wait_for_replies(guide_log(page), 1)
    wait_for_replies(liaison_log(page, "Operations"), 1)
    assert shown(guide_log(page)) == guide_before == recorded(stack, page, "guide")
    assert shown(liaison_log(page, "Operations")) == operations_before
    screenshots.take(page, "after-reload")


def test_a_reply_interrupted_by_an_api_restart_completes_once(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/")
    expect_connected(page)
    send(page, "Message the Guide", "Warm up")
    wait_for_replies(guide_log(page), 1)

    question = "Which pillar handles process maps?"
    send(page, "Message the Guide", question)
    # Stop the API while the message is on its way or its reply is streaming.
    with api_down(page, stack):
        screenshots.take(page, "api-stopped-reconnecting")

    expect_connected(page)
    wait_for_replies(guide_log(page), 2)
    screenshots.take(page, "reply-completed-after-restart")
    thread = shown(guide_log(page))
    assert thread == recorded(stack, page, "guide")
    assert [text for role, text in thread if role == "user"] == ["Warm up", question]
    assert len(thread) == 4


def test_the_page_fits_a_phone_screen(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    expect_connected(page)
    send(page, "Message the Content liaison", "Describe my uploaded files")
    wait_for_replies(liaison_log(page, "Content"), 1)
    expect(page.get_by_role("complementary", name="Guide")).to_be_hidden()
    screenshots.take(page, "phone-pillars")

    toggle = page.get_by_role("button", name="Guide")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    send(page, "Message the Guide", "Where do I start?")
    wait_for_replies(guide_log(page), 1)
    screenshots.take(page, "phone-guide-open")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
