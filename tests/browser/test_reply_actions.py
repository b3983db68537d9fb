"""What a person does with a reply in real Chromium: its steps (shown and restored after a
reload), its rating (given twice, counted once) and Regenerate (double-clicked, run once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import ROOT, Screenshots
from tests.browser.page_helpers import (
    DEVICE_IDENTITY,
    Frames,
    as_device,
    expect_connected,
    liaison_log,
    send,
    wait_for_replies,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

SOP = "Write an SOP for onboarding a new hire: 1. create their accounts 2. ship the laptop"
QUESTION = "What should a good SOP contain?"


def operations(page: Page) -> Locator:
    page.goto("/#operations")
    expect_connected(page)
    return liaison_log(page, "Operations")


def replies(log: Locator) -> Locator:
    return log.locator('li[data-role="assistant"]')


def history(stack: RunningStack, page: Page) -> list[dict[str, object]]:
    token = page.evaluate("localStorage.getItem('agentChat.sessionToken')")
    response = httpx.get(
        f"{stack.http_url}/api/chat/conversation/history",
        params={"session_token": token, "agent_type": "operations_liaison"},
        headers=as_device(page.evaluate(DEVICE_IDENTITY)),
        timeout=10,
    )
    response.raise_for_status()
    messages: list[dict[str, object]] = response.json()["messages"]
    return messages


def test_steps_show_in_the_reply_and_are_restored_after_a_reload(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    log = operations(page)
    send(page, "Message the Operations liaison", SOP)
    wait_for_replies(log, 1)

    def expect_step_shown() -> None:
        steps = replies(log).first.locator("details.steps")
        expect(steps.locator("summary")).to_have_text("1 step")
        # Collapsible: closed once the reply is done, opened with the keyboard.
        steps.locator("summary").focus()
        page.keyboard.press("Enter")
        step = steps.locator("li.step")
        expect(step).to_have_attribute("data-outcome", "done")
        expect(step).to_contain_text("build_sop")
        expect(step).to_contain_text("Done")

    expect_step_shown()
    screenshots.take(page, "step-shown")
    page.reload()
    expect_connected(page)
    wait_for_replies(log, 1)
    expect_step_shown()
    screenshots.take(page, "step-restored")


def test_feedback_given_twice_counts_once(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    log = operations(page)
    send(page, "Message the Operations liaison", QUESTION)
    wait_for_replies(log, 1)
    reply = replies(log).first
    reply_id = reply.get_attribute("data-message-id")

    reply.get_by_role("button", name="Good reply").click()
    expect(reply.locator(".feedback")).to_have_attribute("data-rating", "up")
    expect(reply).to_contain_text("Feedback recorded: good.")
    # Again, now with a reason and a comment: the same rating, told more fully.
    reply.get_by_role("button", name="Good reply").click()
    reply.get_by_label("Helpful").check()
    reply.get_by_label("Comment (optional)").fill("Clear list, thanks")
    reply.get_by_role("button", name="Send feedback").click()
    expect(reply.get_by_role("button", name="Good reply")).to_have_attribute("aria-pressed", "true")
    screenshots.take(page, "feedback-given")

    rows = [row for row in exported_feedback(stack) if row["message_id"] == reply_id]
    assert len(rows) == 1, rows
    assert (rows[0]["rating"], rows[0]["reasons"], rows[0]["comment"]) == (
        "up",
        ["helpful"],
        "Clear list, thanks",
    )

    # Changeable: the latest rating replaces it.
    reply.get_by_role("button", name="Bad reply").click()
    expect(reply.locator(".feedback")).to_have_attribute("data-rating", "down")
    rows = [row for row in exported_feedback(stack) if row["message_id"] == reply_id]
    assert [row["rating"] for row in rows] == ["down"]


def test_regenerate_double_clicked_runs_once(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    frames = Frames()
    frames.watch(page)
    log = operations(page)
    send(page, "Message the Operations liaison", QUESTION)
    wait_for_replies(log, 1)
    first_id = replies(log).first.get_attribute("data-message-id")

    log.get_by_role("button", name="Regenerate").dblclick()
    # The new reply takes the old one's place; the old text stays at hand.
    expect(replies(log)).to_have_count(1)
    expect(replies(log).first).not_to_have_attribute("data-message-id", str(first_id))
    wait_for_replies(log, 1)
    expect(replies(log).first.locator("details.earlier summary")).to_contain_text("earlier version")
    expect(log.get_by_role("button", name="Regenerate")).to_be_enabled()
    screenshots.take(page, "regenerated")

    sent = frames.sent_of("/liaison/operations", "regenerate")
    assert len(sent) == 1, sent
    # The server ran it once: the history holds the first reply and one regenerated reply.
    recorded = [m for m in history(stack, page) if m["role"] == "assistant"]
    assert len(recorded) == 2, recorded
    assert recorded[1]["regenerates"] == first_id


def exported_feedback(stack: RunningStack) -> list[dict[str, object]]:
    """Every stored rating, as `make feedback-export` writes it."""
    done = subprocess.run(
        [sys.executable, "-m", "foundations.feedback"],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": stack.redis_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
