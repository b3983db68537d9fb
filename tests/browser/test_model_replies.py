"""A model's markdown reply, streamed into the page in real Chromium.

The built-in agents write no tables or code, so this module runs a second worker and API on
the shared Temporal and Redis with the OpenAI-compatible provider, pointed at a real HTTP
server on 127.0.0.1 that streams a scripted Chat Completions reply slowly enough for the page
to render it in many steps.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.services import Stack, free_port, start_api, start_worker
from tests.browser.conftest import Screenshots, fresh_page
from tests.browser.page_helpers import expect_connected, liaison_log, send, wait_for_replies
from tests.sse_server import completion_chunk
from tests.stack import RunningStack

pytestmark = pytest.mark.browser

REPLY = """## Sales by month

| month | sales | change |
| --- | ---: | ---: |
| Jan | 1,200 | — |
| Feb | 1,450 | +21% |
| Mar | 1,380 | −5% |

- [x] Upload the figures
- [ ] Set a target for Q2

```python
print(sum([1200, 1450, 1380]))
```

Not markup: <img src=x onerror=alert(1)> <script>alert(2)</script>
"""
# Small pieces with a pause between them: the page renders the reply at many lengths.
DELTAS = [REPLY[start : start + 12] for start in range(0, len(REPLY), 12)]
PAUSE_SECONDS = 0.03


class _ModelHandler(BaseHTTPRequestHandler):
    """Answers every chat completion with REPLY as an event stream, piece by piece."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for delta in DELTAS:
            self.wfile.write(completion_chunk(delta).encode())
            self.wfile.flush()
            time.sleep(PAUSE_SECONDS)
        self.wfile.write(completion_chunk(None, finish="stop").encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test's output is the page."""


@dataclass
class ModelStack:
    http_url: str


@pytest.fixture(scope="module")
def model_stack(stack: RunningStack) -> Iterator[ModelStack]:
    model = ThreadingHTTPServer(("127.0.0.1", 0), _ModelHandler)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    api_port = free_port()
    env = {
        **stack.env,
        "TASK_QUEUE": "chat-sessions-model",
        "WORKER_METRICS_PORT": str(free_port()),
        "TEMPORAL_METRICS_PORT": str(free_port()),
        "ALLOWED_ORIGINS": json.dumps([f"http://127.0.0.1:{api_port}"]),
        "REPLY_PROVIDER": "openai",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{model.server_address[1]}/v1",
        "OPENAI_API_KEY": "sk-test",
    }
    processes = Stack()
    try:
        start_worker(processes, env, stack.log_dir)
        start_api(processes, env, api_port, stack.log_dir)
        yield ModelStack(f"http://127.0.0.1:{api_port}")
    finally:
        processes.stop()
        model.shutdown()


@pytest.fixture
def model_page(browser: Browser, model_stack: ModelStack) -> Iterator[Page]:
    with fresh_page(browser, model_stack.http_url) as page:
        yield page


# Records, at every change of the thread, the reply's first block (by identity) and height.
WATCH_GROWTH = """() => {
  window.replyGrowth = [];
  const blocks = new WeakMap();
  const thread = document.querySelector('.panel:not([hidden]) [role="log"]');
  new MutationObserver(() => {
    const reply = thread.querySelector('li[data-role="assistant"]');
    const first = reply && reply.querySelector('.markdown > :first-child');
    if (!first) return;
    if (!blocks.has(first)) blocks.set(first, window.replyGrowth.length);
    window.replyGrowth.push({
      state: reply.dataset.state, first: blocks.get(first), height: reply.offsetHeight,
    });
  }).observe(thread, { subtree: true, childList: true, characterData: true });
}"""


def test_a_streamed_markdown_reply_renders_tables_code_and_tasks(
    model_page: Page, screenshots: Screenshots
) -> None:
    page = model_page
    page.goto("/#insights")
    expect_connected(page)
    page.evaluate(WATCH_GROWTH)
    send(page, "Message the Insights liaison", "Show me sales by month")
    log = liaison_log(page, "Insights")
    expect(log.locator('li[data-state="streaming"]')).to_have_count(1)
    wait_for_replies(log, 1)
    reply = log.locator('li[data-role="assistant"] .content')
    assert reply.get_attribute("data-source") == REPLY

    expect(reply.get_by_role("heading", name="Sales by month")).to_be_visible()
    table = reply.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["month", "sales", "change"])
    expect(table.get_by_role("row")).to_have_count(4)
    expect(table.get_by_role("row").nth(2)).to_contain_text("Feb1,450+21%")
    boxes = reply.get_by_role("checkbox")
    expect(boxes).to_have_count(2)
    expect(boxes.nth(0)).to_be_checked()
    expect(boxes.nth(1)).not_to_be_checked()
    expect(reply.locator("pre code")).to_have_text("print(sum([1200, 1450, 1380]))\n")
    expect(reply.get_by_role("button", name="Copy code")).to_be_visible()
    expect(reply).to_contain_text("<img src=x onerror=alert(1)> <script>alert(2)</script>")
    expect(reply.locator("img, script")).to_have_count(0)
    screenshots.take(page, "table-code-and-tasks")

    # The reply grew in place: its first block was never replaced (no flicker), and the
    # message never shrank while it streamed (no jump back).
    growth: list[dict[str, Any]] = page.evaluate("window.replyGrowth")
    streaming = [step for step in growth if step["state"] == "streaming"]
    assert len(streaming) > 5, "the reply did not render in steps"
    assert {step["first"] for step in growth} == {0}
    heights = [step["height"] for step in growth]
    assert heights == sorted(heights), f"the reply's height went back: {heights}"
