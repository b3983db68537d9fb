"""Real Chromium driving the page the API serves, against the real stack.

The stack is the one the integration tests use (`tests/stack.py`): Temporal dev server,
Redis, worker and uvicorn, started once per test session.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.stack import RunningStack

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
FRONTEND_INDEX = ROOT / "frontend" / "dist" / "index.html"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Replies take tens of milliseconds on an idle machine; a busy two-core CI machine is slower.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


def _require(present: bool, reason: str) -> None:
    """A missing prerequisite fails the run in CI, where it must be there, and skips elsewhere."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


# Module scope, not session: sync Playwright holds an event loop while it runs, and the async
# tests that come after the browser tests need theirs.
def require_browser() -> None:
    """Chromium and the built page, or fail in CI / skip elsewhere."""
    _require(
        CHROMIUM.exists(),
        f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)",
    )
    _require(
        FRONTEND_INDEX.exists(),
        "frontend/dist is not built: run `make frontend`",
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack: RunningStack) -> Iterator[Page]:
    """A fresh browser profile (so a new chat session) on the page the API serves."""
    with fresh_page(browser, stack.http_url) as page:
        yield page


@contextmanager
def fresh_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in a fresh browser profile, with relative URLs under `base_url`."""
    context = browser.new_context(viewport=DESKTOP, base_url=base_url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass
class Screenshots:
    """Numbered screenshots of a test's steps, kept as test artifacts."""

    directory: Path
    taken: int = 0

    def take(self, page: Page, step: str) -> Path:
        path = self.next(step)
        page.screenshot(path=path, full_page=True)
        return path

    def next(self, step: str) -> Path:
        """Where the next step's screenshot goes (for async pages, which take their own)."""
        self.taken += 1
        return self.directory / f"{self.taken:02d}-{step}.png"


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts"))
    directory = artifacts / "browser" / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    return Screenshots(directory)
