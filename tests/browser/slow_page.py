"""A page on an edge and worker of the test's own whose built-in agent streams slowly, so that
a reply can be caught part way (stopped, or its question edited). They run in the test's event
loop, hence async Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from playwright.async_api import Page, async_playwright, expect

from agents.builtin import BuiltInResponder
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS, require_browser
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.stack import RunningStack


@asynccontextmanager
async def slow_page(stack: RunningStack, delta_delay: timedelta) -> AsyncIterator[Page]:
    """A connected page of a fresh browser on the Operations liaison, its replies slowed."""
    require_browser()
    # The edge's port is chosen when it starts, so its own origin cannot be listed up front.
    settings = settings_for(stack).model_copy(update={"allowed_origins": ["*"]})
    async with (
        run_worker(settings, BuiltInResponder(delta_delay=delta_delay)),
        serve_edge(settings) as ws_url,
        async_playwright() as playwright,
    ):
        http_url = ws_url.replace("ws://", "http://", 1)
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport=DESKTOP, base_url=http_url)
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto("/#operations")
            await expect(page.get_by_role("status")).to_have_attribute(
                "data-status", "connected", timeout=TIMEOUT_MS
            )
            yield page
        finally:
            await browser.close()
