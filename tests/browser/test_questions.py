"""Questions a liaison asks before it acts, answered in the page in real Chromium: an SOP draft
approved, approved with edited inputs, and rejected; a missing file asked for and uploaded.

The shared stack runs capabilities without asking, so these run an edge and a worker of their
own with the default policy (tests/browser/own_stack.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import ROOT, Screenshots
from tests.browser.own_stack import own_page
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

SOP = "Write an SOP for onboarding a new hire: 1. create their accounts 2. ship the laptop"
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def liaison_log(page: Page, name: str) -> Locator:
    return page.get_by_role("log", name=f"{name} liaison conversation")


def card(log: Locator, index: int) -> Locator:
    return log.locator('li[data-role="question"]').nth(index)


def replies(log: Locator) -> Locator:
    return log.locator('li[data-role="assistant"][data-state="complete"]')


async def send(page: Page, name: str, message: str) -> None:
    box = page.get_by_role("textbox", name=f"Message the {name} liaison")
    await box.fill(message)
    await box.press("Enter")


async def connected(page: Page) -> None:
    await expect(page.get_by_role("status")).to_have_attribute("data-status", "connected")


async def serious_violations(page: Page) -> list[str]:
    """What axe-core finds serious or critical (as tests/browser/test_accessibility.py)."""
    await page.add_script_tag(path=Path(AXE))
    results = await page.evaluate("() => axe.run(document)")
    return [
        f"{violation['id']}: {violation['help']} at {node['target']}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


async def test_an_sop_draft_is_approved_edited_and_rejected_in_the_page(
    stack: RunningStack, screenshots: Screenshots
) -> None:
    async with own_page(stack) as page:
        log = liaison_log(page, "Operations")
        # A second tab of the same session: it shows the same question, and its resolution.
        other = await page.context.new_page()
        await other.goto("/#operations")
        await connected(other)
        other_log = liaison_log(other, "Operations")

        await send(page, "Operations", SOP)
        first = card(log, 0)
        await expect(first).to_have_attribute("data-outcome", "open")
        await expect(first).to_contain_text("Approval needed")
        await expect(first).to_contain_text("create their accounts")
        await expect(card(other_log, 0)).to_have_attribute("data-outcome", "open")
        await page.screenshot(path=screenshots.next("approval-asked"))
        assert await serious_violations(page) == []
        # Nothing ran yet: the liaison waits for the person.
        await expect(log.locator('li[data-role="assistant"]')).to_have_count(0)

        await first.get_by_role("button", name="Approve", exact=True).click()
        await expect(first).to_have_attribute("data-outcome", "approved")
        await expect(first).to_contain_text("Approved.")
        await expect(replies(log)).to_have_count(1)
        await expect(replies(log).get_by_role("checkbox")).to_have_count(2)
        # The other tab sees the answer, and can no longer give one.
        other_card = card(other_log, 0)
        await expect(other_card).to_have_attribute("data-outcome", "approved")
        await expect(other_card.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
        await other.close()

        # Edit the inputs: the draft follows the edited steps.
        await send(page, "Operations", SOP)
        second = card(log, 1)
        await second.get_by_role("button", name="Edit inputs").click()
        steps = second.get_by_role("textbox", name="steps")
        await steps.fill("1. create their accounts 2. ship the laptop 3. book the intro call")
        await page.screenshot(path=screenshots.next("approval-editing"))
        await second.get_by_role("button", name="Approve with these inputs").click()
        await expect(second).to_have_attribute("data-outcome", "edited")
        await expect(second).to_contain_text("book the intro call")
        await expect(replies(log)).to_have_count(2)
        await expect(replies(log).nth(1).get_by_role("checkbox")).to_have_count(3)

        # Reject: the liaison answers without drafting.
        await send(page, "Operations", SOP)
        third = card(log, 2)
        await third.get_by_role("button", name="Reject").click()
        await expect(third).to_have_attribute("data-outcome", "rejected")
        await expect(replies(log)).to_have_count(3)
        await expect(replies(log).nth(2).get_by_role("checkbox")).to_have_count(0)
        await page.screenshot(path=screenshots.next("approval-resolved"))

        # A reload shows each question where it was asked, with its outcome.
        await page.reload()
        await connected(page)
        await expect(log.locator('li[data-role="question"]')).to_have_count(3)
        outcomes = [await card(log, i).get_attribute("data-outcome") for i in range(3)]
        assert outcomes == ["approved", "edited", "rejected"]


async def test_a_question_for_a_missing_file_is_answered_by_uploading_it(
    stack: RunningStack, screenshots: Screenshots
) -> None:
    async with own_page(stack, pillar="content") as page:
        log = liaison_log(page, "Content")
        await send(page, "Content", "What is in quarterly.csv?")
        asked = card(log, 0)
        await expect(asked).to_have_attribute("data-question-kind", "file")
        await expect(asked).to_contain_text("quarterly.csv")
        await page.screenshot(path=screenshots.next("file-asked"))

        await asked.get_by_label("Upload the file").set_input_files(
            {"name": "quarterly.csv", "mimeType": "text/csv", "buffer": b"month,sales\nJan,100\n"}
        )
        await expect(asked).to_have_attribute("data-outcome", "answered")
        await expect(asked).to_contain_text("File: quarterly.csv")
        # The file is the session's now, as if uploaded with Attach.
        files = page.get_by_role("list", name="Files of this session")
        await expect(files).to_contain_text("quarterly.csv")
        # Reading a file keeps a result, so the liaison asks before it does.
        approval = card(log, 1)
        await expect(approval).to_have_attribute("data-question-kind", "approval")
        await approval.get_by_role("button", name="Approve", exact=True).click()
        await expect(replies(log)).to_have_count(1)
        await expect(replies(log)).to_contain_text("month")
        await page.screenshot(path=screenshots.next("file-answered"))
