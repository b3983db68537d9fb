"""The chat list in real Chromium: two browser contexts of one user (one device identity, as
a second browser signed in as the same person would have) see the same chats and the same
conversations live; rename in place, search, delete with confirmation, export as Markdown and
the read-only shared view, against the real stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DESKTOP, TIMEOUT_MS, Screenshots
from tests.browser.page_helpers import expect_connected, guide_log, send, shown, wait_for_replies
from tests.browser.test_accessibility import expect_accessible
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

# What a browser keeps of the chat it has open, as opposed to who it is: a second browser of
# the same user starts without them and opens a chat from the list.
CHAT_KEYS = re.compile(r"^agentChat\.(sessionToken|chatId|pending\.)")


def chat_items(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Chats").locator("li[data-chat-id]")


def current_item(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Chats").locator('li[data-current="true"]')


def current_chat_id(page: Page) -> str:
    expect(current_item(page)).to_have_count(1)
    chat_id = current_item(page).get_attribute("data-chat-id")
    assert chat_id
    return chat_id


@contextmanager
def same_user(browser: Browser, stack: RunningStack, page: Page) -> Iterator[Page]:
    """Another browser context with `page`'s identity and none of its open chat."""
    state: Any = page.context.storage_state()
    for origin in state["origins"]:
        origin["localStorage"] = [
            entry for entry in origin["localStorage"] if not CHAT_KEYS.match(entry["name"])
        ]
    context = browser.new_context(viewport=DESKTOP, base_url=stack.http_url, storage_state=state)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def open_page(page: Page, path: str = "/") -> None:
    page.goto(path)
    expect_connected(page)
    expect(current_item(page)).to_have_count(1)


def test_two_contexts_of_one_user_see_the_same_chats_and_conversation_live(
    browser: Browser, page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    open_page(page)
    first = current_chat_id(page)
    send(page, "Message the Guide", "Where do I upload a spreadsheet of invoices?")
    wait_for_replies(guide_log(page), 1)

    with same_user(browser, stack, page) as other:
        # The other browser opens the newest chat of the list: the same one, history and all.
        open_page(other)
        assert current_chat_id(other) == first
        wait_for_replies(guide_log(other), 1)
        assert shown(guide_log(other)) == shown(guide_log(page))

        # What one sends, the other sees live.
        send(other, "Message the Guide", "And how do I check my quarterly numbers?")
        wait_for_replies(guide_log(page), 2)
        wait_for_replies(guide_log(other), 2)
        assert shown(guide_log(page)) == shown(guide_log(other))
        screenshots.take(other, "second-context-same-conversation")

        # A new chat opens beside the old one, at once here and soon in the other browser.
        page.get_by_role("button", name="New chat", exact=True).click()
        expect(chat_items(page)).to_have_count(2)
        second = current_chat_id(page)
        assert second != first
        expect(guide_log(page).locator("li.message")).to_have_count(0)
        expect_connected(page)
        expect(chat_items(other)).to_have_count(2)
        assert {item.get_attribute("data-chat-id") for item in chat_items(other).all()} == {
            first,
            second,
        }
        # The other browser still shows the chat it had open.
        assert current_chat_id(other) == first
        screenshots.take(page, "new-chat-beside-the-old")
        expect_accessible(page)

        # Opening the first chat again brings its conversation back.
        page.locator(f'li[data-chat-id="{first}"]').get_by_role("button").first.click()
        expect(current_item(page)).to_have_attribute("data-chat-id", first)
        wait_for_replies(guide_log(page), 2)
        assert shown(guide_log(page)) == shown(guide_log(other))


def test_rename_search_and_delete_with_confirmation(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    open_page(page)
    budget = current_chat_id(page)
    send(page, "Message the Guide", "Help me plan a budget")
    wait_for_replies(guide_log(page), 1)
    nav = page.get_by_role("navigation", name="Chats")

    # Rename in place: the new title shows at once, and stays after a reload.
    current_item(page).get_by_role("button", name=re.compile("^Rename ")).click()
    title_box = nav.get_by_role("textbox", name=re.compile("^New title for "))
    expect(title_box).to_be_focused()
    title_box.fill("Quarterly budget")
    title_box.press("Enter")
    expect(current_item(page).locator(".chat-title")).to_have_text("Quarterly budget")
    screenshots.take(page, "renamed")

    page.get_by_role("button", name="New chat", exact=True).click()
    expect(chat_items(page)).to_have_count(2)
    other = current_chat_id(page)
    send(page, "Message the Guide", "Who should we hire next?")
    wait_for_replies(guide_log(page), 1)
    current_item(page).get_by_role("button", name=re.compile("^Rename ")).click()
    nav.get_by_role("textbox", name=re.compile("^New title for ")).fill("Hiring plan")
    nav.get_by_role("button", name="Save").click()
    expect(current_item(page).locator(".chat-title")).to_have_text("Hiring plan")

    page.reload()
    expect_connected(page)
    expect(page.locator(f'li[data-chat-id="{budget}"] .chat-title')).to_have_text(
        "Quarterly budget"
    )

    # Search by title.
    nav.get_by_role("searchbox", name="Search chats by title").fill("budget")
    expect(chat_items(page)).to_have_count(1)
    expect(chat_items(page)).to_have_attribute("data-chat-id", budget)
    nav.get_by_role("searchbox", name="Search chats by title").fill("")
    expect(chat_items(page)).to_have_count(2)

    # Delete asks first; Cancel keeps the chat.
    nav.get_by_role("button", name="Delete Quarterly budget").click()
    dialog = page.get_by_role("dialog", name="Delete “Quarterly budget”?")
    expect(dialog).to_be_visible()
    screenshots.take(page, "confirm-delete")
    expect_accessible(page)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(chat_items(page)).to_have_count(2)

    nav.get_by_role("button", name="Delete Quarterly budget").click()
    dialog.get_by_role("button", name="Delete chat").click()
    expect(chat_items(page)).to_have_count(1)
    expect(chat_items(page)).to_have_attribute("data-chat-id", other)
    # Gone for good: not back after a reload, whatever visibility still says.
    page.reload()
    expect_connected(page)
    expect(page.locator(f'li[data-chat-id="{budget}"]')).to_have_count(0)
    expect(chat_items(page)).to_have_count(1)


def test_deleting_the_open_chat_opens_another(page: Page, stack: RunningStack) -> None:
    open_page(page)
    first = current_chat_id(page)
    page.get_by_role("button", name="New chat", exact=True).click()
    expect(chat_items(page)).to_have_count(2)
    second = current_chat_id(page)
    assert second != first
    current_item(page).get_by_role("button", name=re.compile("^Delete ")).click()
    page.get_by_role("dialog").get_by_role("button", name="Delete chat").click()
    expect(chat_items(page)).to_have_count(1)
    expect(current_item(page)).to_have_attribute("data-chat-id", first)
    expect_connected(page)


def test_new_conversation_opens_a_new_chat_and_keeps_the_old_one(
    page: Page, stack: RunningStack
) -> None:
    open_page(page)
    first = current_chat_id(page)
    send(page, "Message the Guide", "Where do I upload a spreadsheet of invoices?")
    wait_for_replies(guide_log(page), 1)

    # Nothing is lost, so nothing is asked: the new chat opens at once, empty.
    page.get_by_role("button", name="New conversation").click()
    expect(chat_items(page)).to_have_count(2)
    assert current_chat_id(page) != first
    expect(guide_log(page).locator("li.message")).to_have_count(0)
    expect_connected(page)

    # The old chat goes on where it was: its thread, and its session still answers.
    page.locator(f'li[data-chat-id="{first}"]').get_by_role("button").first.click()
    expect(current_item(page)).to_have_attribute("data-chat-id", first)
    wait_for_replies(guide_log(page), 1)
    send(page, "Message the Guide", "And how do I check my quarterly numbers?")
    wait_for_replies(guide_log(page), 2)


def test_export_downloads_the_conversation_as_markdown(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    open_page(page)
    question = "Where do I upload a spreadsheet of invoices?"
    send(page, "Message the Guide", question)
    wait_for_replies(guide_log(page), 1)
    reply = shown(guide_log(page))[1][1]

    page.get_by_role("button", name="Export and share").click()
    dialog = page.get_by_role("dialog", name="Export and share")
    dialog.get_by_role("combobox", name="Conversation").select_option(label="Guide")
    screenshots.take(page, "export-dialog")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="Conversation as Markdown").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".md")
    path = download.path()
    text = path.read_text(encoding="utf-8")
    assert question in text
    assert reply.strip().splitlines()[0] in text


def test_the_shared_view_is_read_only_and_a_revoked_link_says_so(
    browser: Browser, page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    open_page(page)
    question = "Where do I upload a spreadsheet of invoices?"
    send(page, "Message the Guide", question)
    wait_for_replies(guide_log(page), 1)
    thread = shown(guide_log(page))

    page.get_by_role("button", name="Export and share").click()
    dialog = page.get_by_role("dialog", name="Export and share")
    dialog.get_by_role("combobox", name="Conversation").select_option(label="Guide")
    dialog.get_by_role("button", name="Create link").click()
    links = dialog.get_by_role("list", name="Links to this chat")
    expect(links.get_by_role("link")).to_have_count(1)
    expect_accessible(page)
    url = links.get_by_role("link").get_attribute("href")
    assert url and re.search(r"/share/[^/]+$", url), url

    # Anyone with the link: a browser with no identity of this user.
    viewer_context = browser.new_context(viewport=DESKTOP)
    viewer_context.set_default_timeout(TIMEOUT_MS)
    try:
        viewer = viewer_context.new_page()
        viewer.goto(url)
        log = viewer.get_by_role("log", name="Guide conversation")
        expect(log.locator("li.message")).to_have_count(2)
        assert shown(log) == thread
        expect(viewer.get_by_role("textbox")).to_have_count(0)
        expect(viewer.get_by_role("button", name="Send")).to_have_count(0)
        screenshots.take(viewer, "shared-view")
        expect_accessible(viewer)

        dialog.get_by_role("button", name=re.compile("^Revoke ")).click()
        expect(links.get_by_role("link")).to_have_count(0)
        viewer.reload()
        expect(viewer.get_by_role("alert")).to_contain_text("This link no longer works")
        expect(viewer.get_by_role("log")).to_have_count(0)
        screenshots.take(viewer, "revoked-link")
    finally:
        viewer_context.close()


def test_the_sidebar_collapses_on_a_narrow_screen(page: Page, stack: RunningStack) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/")
    expect_connected(page)
    nav = page.get_by_role("navigation", name="Chats")
    toggle = page.get_by_role("button", name="Chats", exact=True)
    expect(nav).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("button", name="New chat", exact=True)).to_be_visible()
    # The sidebar covers the page; the keyboard is in it, and Escape or Close hides it.
    expect(nav.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    toggle.click()
    nav.get_by_role("button", name="Close").click()
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
