"""axe-core's accessibility rules over the page's main views, in real Chromium.

axe-core is the page's pinned dev dependency (frontend/package.json), so the rules are the same
on every machine. A serious or critical violation fails the test with the rule, the reason and
the elements, so it can be fixed in the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import ROOT, Screenshots, _require
from tests.browser.page_helpers import (
    expect_connected,
    guide_log,
    liaison_log,
    send,
    wait_for_replies,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
SALES = b"month,sales\nJan,100\nFeb,200\n"


def expect_accessible(page: Page) -> None:
    violations = blocking_violations(page)
    assert not violations, "\n".join(violations)


def blocking_violations(page: Page) -> list[str]:
    """What axe finds serious or critical on the page as it stands, one line per element."""
    _require(AXE.exists(), f"{AXE} is missing: run `make frontend` (npm ci installs axe-core)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=Path(AXE))
    results: dict[str, Any] = page.evaluate("() => axe.run(document)")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        f"{' '.join(node['target'])}: {node['failureSummary']}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


def test_the_guide_chat_has_no_serious_violations(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/")
    expect_connected(page)
    expect_accessible(page)

    send(page, "Message the Guide", "Where do I upload a spreadsheet of invoices?")
    wait_for_replies(guide_log(page), 1)
    screenshots.take(page, "guide-reply")
    expect_accessible(page)


def test_a_liaison_chat_with_a_reply_has_no_serious_violations(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#operations")
    expect_connected(page)
    # A rendered checklist: read-only checkboxes in an ordered list, and a copy button.
    send(
        page,
        "Message the Operations liaison",
        "Write an SOP for onboarding a new hire: 1. create their accounts 2. ship the laptop",
    )
    log = liaison_log(page, "Operations")
    wait_for_replies(log, 1)
    expect(log.get_by_role("checkbox")).to_have_count(2)
    screenshots.take(page, "liaison-reply")
    expect_accessible(page)


def test_the_content_upload_area_has_no_serious_violations(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#content")
    expect_connected(page)
    expect_accessible(page)

    # With a file listed and a refusal shown in place.
    picker = page.get_by_label("Choose files to upload")
    picker.set_input_files(_file("sales.csv", SALES))
    expect(page.get_by_role("list", name="Files of this session")).to_contain_text("sales.csv")
    picker.set_input_files(_file("empty.txt", b""))
    expect(page.get_by_role("list", name="Uploads").get_by_role("alert")).to_have_count(1)
    screenshots.take(page, "upload-area")
    expect_accessible(page)


def _file(name: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": data}
