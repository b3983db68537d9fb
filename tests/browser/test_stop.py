"""Stop in real Chromium, on a reply slow enough to be stopped half way.

The shared stack's agent answers in milliseconds, so this test runs a worker of its own with a
slowed built-in agent and an edge serving the page (tests/integration/custom_edge.py), both on
the stack's Temporal and Redis. They run in the test's event loop, hence async Playwright.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from agents.builtin import BuiltInResponder
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    TIMEOUT_MS,
    Screenshots,
    require_browser,
)
from tests.browser.page_helpers import DEVICE_IDENTITY, as_device
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.stack import RunningStack

pytestmark = pytest.mark.browser


async def test_stop_cuts_a_streaming_reply_short(
    stack: RunningStack, screenshots: Screenshots
) -> None:
    require_browser()
    # The edge's port is chosen when it starts, so its own origin cannot be listed up front.
    settings = settings_for(stack).model_copy(update={"allowed_origins": ["*"]})
    slow = BuiltInResponder(delta_delay=timedelta(milliseconds=150))
    async with (
        run_worker(settings, slow),
        serve_edge(settings) as ws_url,
        async_playwright() as playwright,
    ):
        http_url = ws_url.replace("ws://", "http://", 1)
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport=DESKTOP, base_url=http_url)
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto("/#operations")
        await expect(page.get_by_role("status")).to_have_attribute(
            "data-status", "connected", timeout=TIMEOUT_MS
        )

        box = page.get_by_role("textbox", name="Message the Operations liaison")
        await box.fill("What should a good SOP contain?")
        await box.press("Enter")
        log = page.get_by_role("log", name="Operations liaison conversation")
        reply = log.locator('li[data-role="assistant"]')
        await expect(reply).to_have_attribute("data-state", "streaming", timeout=TIMEOUT_MS)
        await page.screenshot(path=screenshots.next("reply-streaming-with-stop"))
        await page.get_by_role("button", name="Stop").click()

        await expect(reply).to_have_attribute("data-state", "cancelled", timeout=TIMEOUT_MS)
        await expect(reply).to_contain_text("Stopped.")
        await expect(page.get_by_role("button", name="Stop")).to_have_count(0)
        await page.screenshot(path=screenshots.next("reply-stopped"))
        # A reply is rendered from markdown; its text as written rides along in data-source.
        stopped_text = await reply.locator(".content").get_attribute("data-source") or ""
        # After a reload the history still says the reply was stopped.
        await page.reload()
        await expect(reply).to_have_attribute("data-state", "cancelled", timeout=TIMEOUT_MS)
        await expect(reply.locator(".content")).to_have_attribute("data-source", stopped_text)
        token = await page.evaluate("localStorage.getItem('agentChat.sessionToken')")
        device = await page.evaluate(DEVICE_IDENTITY)
        await browser.close()

    # The edge is gone; the history is in Redis, read through the shared stack's API.
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        history = await http.get(
            "/api/chat/conversation/history",
            params={"session_token": token, "agent_type": "operations_liaison"},
            headers=as_device(device),
        )
    last = history.json()["messages"][-1]
    assert (last["role"], last["content"], last.get("cancelled")) == (
        "assistant",
        stopped_text,
        True,
    )
    # Stopped part way: some of the reply, far from all of it (it would take many seconds).
    assert 0 < len(stopped_text.split()) < 40
