"""The server's events, the page's types and the protocol document say the same thing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents.catalog import AgentType
from api.errors import ERRORS
from foundations import server_events
from foundations.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
SCHEMA = FRONTEND / "src" / "server-events.schema.json"
TYPES = FRONTEND / "src" / "server-events.ts"
PROTOCOL = ROOT / "docs" / "protocol.md"

REGENERATE = "run `make events`"
# The npm on PATH, else the one the Node.js wheel puts into the virtualenv (see the Makefile).
VENV_BIN = Path(sys.executable).parent
NPM = shutil.which("npm") or shutil.which("npm", path=str(VENV_BIN))


def test_the_committed_schema_is_the_models_schema() -> None:
    committed = json.loads(SCHEMA.read_text())
    assert committed == server_events.json_schema(), f"the schema is stale: {REGENERATE}"


@pytest.mark.skipif(
    NPM is None or not (FRONTEND / "node_modules").is_dir(),
    reason="needs npm and frontend/node_modules (make frontend)",
)
def test_the_pages_types_are_generated_from_the_committed_schema() -> None:
    assert NPM is not None
    generated = subprocess.run(
        [NPM, "run", "--silent", "generated"],
        cwd=FRONTEND,
        env={**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert generated == TYPES.read_text(), f"server-events.ts is stale: {REGENERATE}"


def _table_codes(heading: str) -> list[str]:
    """The first column of the table under a heading of docs/protocol.md."""
    text = PROTOCOL.read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)`", section, flags=re.MULTILINE)


def test_the_protocol_documents_every_server_event() -> None:
    assert _table_codes("Server frames") == server_events.event_types()


def test_the_protocol_documents_every_error_code_as_the_error_table_answers_it() -> None:
    assert set(ERRORS) == set(ErrorCode), "every error code needs its answer in api/errors.py"
    section = PROTOCOL.read_text().split("\n## Error codes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|.*\| (\d+) \| (\d+|-) \|$", section, flags=re.MULTILINE)
    documented = {
        code: (int(status), None if close == "-" else int(close)) for code, status, close in rows
    }
    assert documented == {
        code.value: (answer.status, answer.close) for code, answer in ERRORS.items()
    }


def test_fields_left_out_when_unset_are_absent_not_null() -> None:
    accepted = server_events.MessageAccepted(
        agent_type=AgentType.CONTENT_LIAISON, message_id="m-1", client_message_id=None, seq=3
    )
    assert json.loads(server_events.frame(accepted)) == {
        "type": "message_accepted",
        "event_id": None,
        "agent_type": "content_liaison",
        "pillar": "content",
        "message_id": "m-1",
        "client_message_id": None,
        "seq": 3,
    }


def test_a_stored_body_leaves_the_stream_assigned_fields_out() -> None:
    reply = server_events.ChatResponse(
        agent_type=AgentType.GUIDE,
        message_id="r-m-1",
        in_reply_to="m-1",
        message="hi",
        session_id="s",
        timestamp="t",
        cancelled=True,
    )
    body = json.loads(server_events.event_body(reply))
    assert "event_id" not in body and "seq" not in body and body["cancelled"] is True
    assert server_events.parse(server_events.event_body(reply)) == reply
