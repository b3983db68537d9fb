"""Replies rendered as markdown in real Chromium: the built-in agents' checklists and lists,
and HTML inside a reply shown as text, never run."""

from __future__ import annotations

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.browser.conftest import Screenshots
from tests.browser.page_helpers import expect_connected, liaison_log, send, wait_for_replies
from tests.stack import RunningStack

pytestmark = pytest.mark.browser


def test_an_sop_checklist_renders_as_checkboxes(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#operations")
    expect_connected(page)
    send(
        page,
        "Message the Operations liaison",
        "Write an SOP for onboarding a new hire: 1. create their accounts "
        "2. ship the laptop 3. book the intro call",
    )
    log = liaison_log(page, "Operations")
    wait_for_replies(log, 1)
    reply = log.locator('li[data-role="assistant"] .content')
    boxes = reply.get_by_role("checkbox")
    expect(boxes).to_have_count(3)
    for box in boxes.all():
        expect(box).to_be_disabled()
        expect(box).not_to_be_checked()
    expect(reply.locator("ol > li")).to_have_count(3)
    expect(reply).not_to_contain_text("[ ]")
    screenshots.take(page, "sop-rendered")

    # The copy button copies the reply as written, so it pastes as the same checklist.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = log.get_by_role("button", name="Copy Operations liaison's reply")
    copy.click()
    expect(copy).to_have_text("Copied")
    source = reply.get_attribute("data-source")
    assert source is not None and "[ ] Ship the laptop" in source
    assert page.evaluate("navigator.clipboard.readText()") == source


def test_a_roadmap_renders_its_bullets_as_a_list(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#business_outcomes")
    expect_connected(page)
    send(
        page,
        "Message the Business Outcomes liaison",
        "Outline a roadmap: we want to grow revenue 20% by Q4 and cut churn to 5% by June",
    )
    log = liaison_log(page, "Business Outcomes")
    wait_for_replies(log, 1)
    reply = log.locator('li[data-role="assistant"] .content')
    expect(reply.locator("ul > li")).to_have_count(2)
    expect(reply.locator("ul > li").first).to_contain_text("revenue")
    for item in reply.locator("ul > li").all():
        assert not item.inner_text().startswith("-")
    screenshots.take(page, "roadmap-rendered")


def test_html_and_script_in_a_reply_show_as_text(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    # The roadmap quotes each stated goal back, so the markup reaches the page in a reply.
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto("/#business_outcomes")
    expect_connected(page)
    attack = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    send(
        page,
        "Message the Business Outcomes liaison",
        f"Outline a roadmap: we want to grow revenue {attack} 20% by Q4",
    )
    log = liaison_log(page, "Business Outcomes")
    wait_for_replies(log, 1)
    reply = log.locator('li[data-role="assistant"] .content')
    expect(reply).to_contain_text(attack)
    expect(reply.locator("img, script")).to_have_count(0)
    assert dialogs == [], "a script in the reply ran"
    screenshots.take(page, "html-shown-as-text")
