"""Edit and resend in real Chromium, while the reply to the message is still streaming: the
reply stops, the edited text is answered, and the page shows the latest version with the
earlier one at hand."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.async_api import expect

from agents.builtin import BuiltInResponder
from tests.browser.conftest import TIMEOUT_MS, Screenshots
from tests.browser.own_stack import own_page
from tests.browser.page_helpers import DEVICE_IDENTITY, as_device
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

FIRST = "What should a good SOP contain?"
EDITED = "What should a good onboarding checklist contain?"


async def test_edit_and_resend_during_a_streaming_reply_cancels_it_and_answers_the_edit(
    stack: RunningStack, screenshots: Screenshots
) -> None:
    slow = BuiltInResponder(delta_delay=timedelta(milliseconds=150))
    async with own_page(stack, slow) as page:
        box = page.get_by_role("textbox", name="Message the Operations liaison")
        await box.fill(FIRST)
        await box.press("Enter")
        log = page.get_by_role("log", name="Operations liaison conversation")
        replies = log.locator('li[data-role="assistant"]')
        await expect(replies.first).to_have_attribute("data-state", "streaming")

        question = log.locator('li[data-role="user"]')
        await question.get_by_role("button", name="Edit").click()
        editor = question.get_by_role("textbox", name="Edit your message")
        await expect(editor).to_be_focused()
        await editor.fill(EDITED)
        await page.screenshot(path=screenshots.next("editing-while-streaming"))
        await question.get_by_role("button", name="Save and resend").click()

        # The first reply stops; the edit is answered.
        await expect(replies.first).to_have_attribute("data-state", "cancelled")
        await expect(question).to_have_count(1)
        await expect(question.locator(".content")).to_have_text(EDITED)
        await expect(replies).to_have_count(2)
        await expect(replies.nth(1)).to_have_attribute(
            "data-state", "complete", timeout=TIMEOUT_MS * 3
        )
        # The earlier text is one click away.
        earlier = question.locator("details.earlier")
        await earlier.locator("summary").click()
        await expect(earlier).to_contain_text(FIRST)
        await page.screenshot(path=screenshots.next("edited-and-answered"))
        shown = await replies.nth(1).locator(".content").get_attribute("data-source")

        # A reload folds the history, which keeps both versions, into the same thread.
        await page.reload()
        await expect(question).to_have_count(1, timeout=TIMEOUT_MS)
        await expect(question.locator(".content")).to_have_text(EDITED)
        await expect(question.locator("details.earlier")).to_contain_text(FIRST)
        token = await page.evaluate("localStorage.getItem('agentChat.sessionToken')")
        device = await page.evaluate(DEVICE_IDENTITY)
        edited_id = await question.get_attribute("data-message-id")

    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        history = await http.get(
            "/api/chat/conversation/history",
            params={"session_token": token, "agent_type": "operations_liaison"},
            headers=as_device(device),
        )
    messages = history.json()["messages"]
    users = [m for m in messages if m["role"] == "user"]
    assert [m["content"] for m in users] == [FIRST, EDITED]
    assert users[1]["edits"] == users[0]["message_id"]
    answers = {m["in_reply_to"]: m for m in messages if m["role"] == "assistant"}
    assert answers[users[0]["message_id"]].get("cancelled") is True
    assert answers[edited_id]["content"] == shown
