"""Every conversation stays live: what another tab of the session sends to a pillar that is not
shown arrives, with its reply, and marks the pillar's tab; a message that waits too long says
it was not sent and is sent once on Retry. (A reply to this page's own message arriving in the
background is in test_pending_messages.py; "New conversation" opening a new chat is in
test_chat_list.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Screenshots, fresh_page
from tests.browser.page_helpers import (
    DEVICE_IDENTITY,
    Frames,
    api_down,
    expect_connected,
    guide_log,
    liaison_log,
    pending_in_storage,
    recorded,
    send,
    shown,
    wait_for_replies,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

CONTENT = "/liaison/content"
TOKEN = "localStorage.getItem('agentChat.sessionToken')"


@contextmanager
def tab_of_the_same_session(
    browser: Browser, stack: RunningStack, page: Page, path: str
) -> Iterator[Page]:
    """A second browser tab of the same device, connected to `page`'s session, showing `path`."""
    token = page.evaluate(TOKEN)
    identity = page.evaluate(DEVICE_IDENTITY)
    with fresh_page(browser, stack.http_url) as other:
        other.add_init_script(
            f"localStorage.setItem('agentChat.sessionToken', {json.dumps(token)});"
            f"localStorage.setItem('agentChat.deviceIdentity', {json.dumps(identity)})"
        )
        other.goto(path)
        expect_connected(other)
        yield other


def test_a_conversation_not_shown_gets_what_another_tab_sends_and_marks_its_tab(
    browser: Browser, page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#content")
    expect_connected(page)
    insights_tab = page.get_by_role("tab", name="Insights")
    operations_tab = page.get_by_role("tab", name="Operations")

    with tab_of_the_same_session(browser, stack, page, "/#insights") as other:
        send(other, "Message the Insights liaison", "What can you tell me about my data?")
        wait_for_replies(liaison_log(other, "Insights"), 1)
        other.get_by_role("tab", name="Operations").click()
        send(other, "Message the Operations liaison", "How do I write an SOP?")
        wait_for_replies(liaison_log(other, "Operations"), 1)

    # This page showed Content all along: both replies arrived in the background.
    expect(insights_tab).to_have_accessible_name(re.compile(r"^Insights\s+1 unread$"))
    expect(operations_tab).to_have_accessible_name(re.compile(r"^Operations\s+1 unread$"))
    expect(page.get_by_role("tab", name="Content")).to_have_accessible_name("Content")
    expect(page).to_have_title("(2) Agent chat")
    screenshots.take(page, "unread-marks-on-insights-and-operations")

    insights_tab.click()
    expect(insights_tab).to_have_accessible_name("Insights")
    log = liaison_log(page, "Insights")
    wait_for_replies(log, 1)
    assert shown(log) == recorded(stack, page, "insights_liaison")
    expect(operations_tab).to_have_accessible_name(re.compile(r"^Operations\s+1 unread$"))
    expect(page).to_have_title("(1) Agent chat")
    screenshots.take(page, "insights-read-operations-unread")


def test_on_a_phone_a_guide_reply_behind_the_pillars_marks_the_guide_button(
    browser: Browser, page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/#content")
    expect_connected(page)
    guide_button = page.get_by_role("button", name=re.compile(r"^Guide"))

    with tab_of_the_same_session(browser, stack, page, "/") as other:
        send(other, "Message the Guide", "Where do I start?")
        wait_for_replies(guide_log(other), 1)

    expect(guide_button).to_have_accessible_name(re.compile(r"^Guide\s+1 unread$"))
    screenshots.take(page, "unread-mark-on-the-guide-button")
    guide_button.click()
    expect(guide_button).to_have_accessible_name("Guide")
    wait_for_replies(guide_log(page), 1)


def test_a_message_that_waits_too_long_is_not_sent_until_retried_once(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    frames = Frames()
    frames.watch(page)
    # The page's test hook: pending messages expire after 3 seconds instead of 5 minutes.
    page.goto("/?pending_expiry_s=3#content")
    expect_connected(page)
    log = liaison_log(page, "Content")
    question = "Which formats can you parse?"

    with api_down(page, stack):
        send(page, "Message the Content liaison", question)
        expect(log.locator('li[data-state="sending"]')).to_have_count(1)
        client_message_id = pending_in_storage(page)[0]["clientMessageId"]
        not_sent = log.locator('li[data-state="failed"]')
        expect(not_sent).to_contain_text("Not sent: the server did not take it within 3 seconds.")
        expect(not_sent.get_by_role("button", name="Retry")).to_be_visible()
        assert pending_in_storage(page) == []
        screenshots.take(page, "not-sent-after-expiry")

    # Back up: the expired message is not sent by itself.
    expect_connected(page)
    expect(not_sent).to_have_count(1)
    assert frames.sent_of(CONTENT, "chat_message") == []
    assert recorded(stack, page, "content_liaison") == []

    not_sent.get_by_role("button", name="Retry").click()
    wait_for_replies(log, 1)
    screenshots.take(page, "retried-and-answered")
    sent = frames.sent_of(CONTENT, "chat_message")
    assert [frame["client_message_id"] for frame in sent] == [client_message_id]
    assert shown(log) == recorded(stack, page, "content_liaison")
    assert [role for role, _ in shown(log)] == ["user", "assistant"]
    assert shown(log)[0] == ("user", question)
