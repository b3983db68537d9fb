"""Questions a liaison asks before it acts, answered in the page in real Chromium: an SOP draft
approved, approved with edited inputs, and rejected; a missing file asked for and uploaded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Screenshots
from tests.browser.page_helpers import expect_connected, liaison_log, send, wait_for_replies
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

SOP = "Write an SOP for onboarding a new hire: 1. create their accounts 2. ship the laptop"


def open_pillar(page: Page, pillar: str, name: str) -> Locator:
    """The pillar's conversation, connected."""
    page.goto(f"/#{pillar}")
    expect_connected(page)
    return liaison_log(page, name)


def card(log: Locator, index: int) -> Locator:
    return log.locator('li[data-role="question"]').nth(index)


def test_an_sop_draft_is_approved_edited_and_rejected_in_the_page(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    log = open_pillar(page, "operations", "Operations")
    # A second tab of the same session: it shows the same question, and its resolution.
    other = page.context.new_page()
    other_log = open_pillar(other, "operations", "Operations")

    send(page, "Message the Operations liaison", SOP)
    first = card(log, 0)
    expect(first).to_have_attribute("data-outcome", "open")
    expect(first).to_contain_text("Approval needed")
    expect(first).to_contain_text("create their accounts")
    expect(card(other_log, 0)).to_have_attribute("data-outcome", "open")
    screenshots.take(page, "approval-asked")
    # Nothing ran yet: the liaison waits for the person.
    expect(log.locator('li[data-role="assistant"]')).to_have_count(0)

    first.get_by_role("button", name="Approve", exact=True).click()
    expect(first).to_have_attribute("data-outcome", "approved")
    expect(first).to_contain_text("Approved.")
    wait_for_replies(log, 1)
    expect(log.locator('li[data-role="assistant"]').get_by_role("checkbox")).to_have_count(2)
    # The other tab sees the answer, and can no longer give one.
    other_card = card(other_log, 0)
    expect(other_card).to_have_attribute("data-outcome", "approved")
    expect(other_card.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    other.close()

    # Edit the inputs: the draft follows the edited steps.
    send(page, "Message the Operations liaison", SOP)
    second = card(log, 1)
    second.get_by_role("button", name="Edit inputs").click()
    steps = second.get_by_role("textbox", name="steps")
    steps.fill("1. create their accounts 2. ship the laptop 3. book the intro call")
    screenshots.take(page, "approval-editing")
    second.get_by_role("button", name="Approve with these inputs").click()
    expect(second).to_have_attribute("data-outcome", "edited")
    expect(second).to_contain_text("book the intro call")
    wait_for_replies(log, 2)
    latest = log.locator('li[data-role="assistant"]').nth(1)
    expect(latest.get_by_role("checkbox")).to_have_count(3)
    expect(latest).to_contain_text("intro call")

    # Reject: the liaison answers without drafting.
    send(page, "Message the Operations liaison", SOP)
    third = card(log, 2)
    third.get_by_role("button", name="Reject").click()
    expect(third).to_have_attribute("data-outcome", "rejected")
    wait_for_replies(log, 3)
    expect(log.locator('li[data-role="assistant"]').nth(2).get_by_role("checkbox")).to_have_count(0)
    screenshots.take(page, "approval-resolved")

    # A reload shows each question where it was asked, with its outcome.
    page.reload()
    expect_connected(page)
    expect(log.locator('li[data-role="question"]')).to_have_count(3)
    outcomes = [card(log, index).get_attribute("data-outcome") for index in range(3)]
    assert outcomes == ["approved", "edited", "rejected"]


def test_a_question_for_a_missing_file_is_answered_by_uploading_it(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    log = open_pillar(page, "content", "Content")
    send(page, "Message the Content liaison", "What is in quarterly.csv?")
    asked = card(log, 0)
    expect(asked).to_have_attribute("data-question-kind", "file")
    expect(asked).to_contain_text("quarterly.csv")
    screenshots.take(page, "file-asked")

    asked.get_by_label("Upload the file").set_input_files(
        {"name": "quarterly.csv", "mimeType": "text/csv", "buffer": b"month,sales\nJan,100\n"}
    )
    expect(asked).to_have_attribute("data-outcome", "answered")
    expect(asked).to_contain_text("File: quarterly.csv")
    # The file is the session's now, as if uploaded with Attach.
    expect(page.get_by_role("list", name="Files of this session")).to_contain_text("quarterly.csv")
    # Reading a file keeps a result, so the liaison asks before it does.
    approval = card(log, 1)
    expect(approval).to_have_attribute("data-question-kind", "approval")
    approval.get_by_role("button", name="Approve", exact=True).click()
    wait_for_replies(log, 1)
    expect(log.locator('li[data-role="assistant"]')).to_contain_text("month")
    screenshots.take(page, "file-answered")
