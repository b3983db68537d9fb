"""Uploading files from the liaison's message box in real Chromium, against the real stack."""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import Screenshots
from tests.browser.page_helpers import expect_connected, liaison_log, wait_for_replies
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

SALES = b"month,region,sales\nJan,North,100\nFeb,South,200\nMar,North,300\nApr,South,400\n"
# Slow enough that the bar shows for a moment, fast enough for a loaded machine.
THROTTLED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 64_000}


def _file(name: str, data: bytes = SALES, media_type: str = "text/csv") -> FilePayload:
    return {"name": name, "mimeType": media_type, "buffer": data}


def test_an_uploaded_csv_is_listed_referred_to_and_summarised(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#insights")
    expect_connected(page)
    # A throttled upload of a larger file shows its progress bar.
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", THROTTLED)
    big = SALES + b"".join(b"May,East,%d\n" % n for n in range(40_000))
    page.get_by_label("Choose files to upload").set_input_files(_file("big.csv", big))
    bar = page.get_by_role("progressbar", name="Uploading big.csv")
    expect(bar).to_be_visible()
    # Part of the file sent, not all of it.
    expect(bar).not_to_have_attribute("value", "0")
    assert int(bar.get_attribute("value") or 0) < len(big)
    screenshots.take(page, "upload-in-progress")
    network.send("Network.emulateNetworkConditions", {**THROTTLED, "uploadThroughput": -1})
    files = page.get_by_role("list", name="Files of this session")
    expect(files).to_contain_text("big.csv", timeout=60_000)
    expect(bar).to_have_count(0)

    page.get_by_label("Choose files to upload").set_input_files(_file("sales.csv"))
    sales = files.get_by_role("listitem").filter(has_text="sales.csv")
    expect(sales).to_contain_text(f"{len(SALES)} B")
    expect(sales).to_contain_text("CSV table")
    screenshots.take(page, "uploads-listed")

    box = page.get_by_role("textbox", name="Message the Insights liaison")
    box.fill("summarise the statistics of")
    page.get_by_role("button", name="Insert reference to sales.csv").click()
    expect(box).to_have_value("summarise the statistics of sales.csv")
    expect(box).to_be_focused()
    box.press("Enter")
    log = liaison_log(page, "Insights")
    wait_for_replies(log, 1)
    reply = log.locator('li[data-role="assistant"] .content')
    # sales: 100, 200, 300, 400.
    expect(reply).to_contain_text("sales.csv")
    expect(reply).to_contain_text("mean 250")
    expect(reply).to_contain_text("max 400")
    screenshots.take(page, "csv-summarised")

    # The list is the server's: a reload shows the same files.
    page.reload()
    expect(page.get_by_role("list", name="Files of this session")).to_contain_text("sales.csv")


def test_refused_files_say_why_in_place(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#content")
    expect_connected(page)
    picker = page.get_by_label("Choose files to upload")
    picker.set_input_files(
        [
            _file("huge.csv", b"x" * (10 * 1024 * 1024 + 1)),
            _file("n" * 197 + ".csv"),
            _file("empty.txt", b"", "text/plain"),
        ]
    )
    refused = page.get_by_role("list", name="Uploads").get_by_role("alert")
    expect(refused).to_have_count(3)
    expect(refused.nth(0)).to_contain_text("huge.csv")
    expect(refused.nth(0)).to_contain_text("Too big")
    expect(refused.nth(1)).to_contain_text("Bad name")
    expect(refused.nth(2)).to_contain_text("Empty")
    expect(page.get_by_role("list", name="Files of this session")).to_have_count(0)
    screenshots.take(page, "refusals")
    refused.nth(0).get_by_role("button", name="Dismiss").click()
    expect(refused).to_have_count(2)


def test_a_file_dropped_on_the_message_box_is_uploaded(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#content")
    expect_connected(page)
    dropped = page.evaluate_handle(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "dropped.csv", { type: "text/csv" }));
            return transfer;
        }""",
        SALES.decode(),
    )
    composer = page.locator(".panel:not([hidden]) form.composer")
    composer.dispatch_event("dragover", {"dataTransfer": dropped})
    composer.dispatch_event("drop", {"dataTransfer": dropped})
    expect(page.get_by_role("list", name="Files of this session")).to_contain_text("dropped.csv")
    screenshots.take(page, "dropped-file-listed")


def test_a_file_pasted_into_the_message_box_is_uploaded(
    page: Page, stack: RunningStack, screenshots: Screenshots
) -> None:
    page.goto("/#insights")
    expect_connected(page)
    box = page.get_by_role("textbox", name="Message the Insights liaison")
    box.evaluate(
        """(box, text) => {
            const clipboard = new DataTransfer();
            clipboard.items.add(new File([text], "pasted.csv", { type: "text/csv" }));
            box.dispatchEvent(
                new ClipboardEvent("paste", { clipboardData: clipboard, bubbles: true }),
            );
        }""",
        SALES.decode(),
    )
    expect(page.get_by_role("list", name="Files of this session")).to_contain_text("pasted.csv")
    # The file went to the session, not into the message as text.
    expect(box).to_have_value("")
    screenshots.take(page, "pasted-file-listed")
