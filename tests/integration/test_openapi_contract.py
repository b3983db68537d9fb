"""The REST fallback's OpenAPI document is a contract the running API keeps.

Schemathesis reads `/openapi.json` of the real stack, sends requests that follow the document
(and requests that break it), and checks every answer with all its checks: each status is
documented, each body matches its documented schema, schema-valid requests are accepted,
schema-invalid ones refused, 405 answers carry `Allow`, nothing answers 5xx unexpectedly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.stack import RunningStack

# Examples per operation and phase: enough to cover each documented answer, bounded so the
# run takes well under a minute.
MAX_EXAMPLES = 15


def test_the_rest_api_keeps_its_openapi_contract(stack: RunningStack, tmp_path: Path) -> None:
    # Every request carries a device identity, and query parameters get a live session's
    # token of that device, so that requests reach past the identity and token checks
    # (uploads, history, the chat list); tokens in bodies stay generated, and mostly invalid.
    device = httpx.post(f"{stack.http_url}/api/auth/device", timeout=30).json()["token"]
    identity = {"Authorization": f"Bearer {device}"}
    created = httpx.post(
        f"{stack.http_url}/api/chat/conversation/create", headers=identity, timeout=30
    )
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'[parameters]\n"query.session_token" = "{created.json()["session_token"]}"\n'
    )
    schemathesis = Path(sys.executable).parent / "st"
    run = subprocess.run(
        [
            str(schemathesis),
            "--config-file",
            str(config),
            "run",
            f"{stack.http_url}/openapi.json",
            "--header",
            f"Authorization: {identity['Authorization']}",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "1",
            "--request-timeout",
            "30",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # no stray schemathesis.toml or report in the work tree
    )
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
