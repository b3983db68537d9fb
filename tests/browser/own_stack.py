"""A page on an edge and a worker of the test's own, on the shared stack's Temporal and Redis:
for the default question policy (the shared stack's capabilities run without asking) or a
built-in agent that streams slowly, so that a reply can be caught part way. They run in the
test's event loop, hence async Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Page, async_playwright, expect

from agents.builtin import BuiltInResponder
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS, require_browser
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.stack import RunningStack

# As the sync tests' (tests/browser/conftest.py): a busy machine is slow.
expect.set_options(timeout=TIMEOUT_MS)


@asynccontextmanager
async def own_page(
    stack: RunningStack, agent: BuiltInResponder | None = None, pillar: str = "operations"
) -> AsyncIterator[Page]:
    """A connected page of a fresh browser on a pillar, served by an edge and worker with the
    default settings (capabilities that keep something ask first) and `agent`."""
    require_browser()
    # The edge's port is chosen when it starts, so its own origin cannot be listed up front.
    # Sessions ask before acting, as a real deployment's do (test edges default to not asking).
    update = {"allowed_origins": ["*"], "ask_before_acting": True}
    settings = settings_for(stack).model_copy(update=update)
    async with (
        run_worker(settings, agent or BuiltInResponder()),
        serve_edge(settings) as ws_url,
        async_playwright() as playwright,
    ):
        http_url = ws_url.replace("ws://", "http://", 1)
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            # A context of its own, so that a test can open a second tab of the same session.
            context = await browser.new_context(viewport=DESKTOP, base_url=http_url)
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            await page.goto(f"/#{pillar}")
            await expect(page.get_by_role("status")).to_have_attribute(
                "data-status", "connected", timeout=TIMEOUT_MS
            )
            yield page
        finally:
            await browser.close()
