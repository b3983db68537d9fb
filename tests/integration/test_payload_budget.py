"""No user input pushes a Temporal payload of a session past the documented budget."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from temporalio.client import Client

from agents.builtin import BuiltInResponder
from tests.integration.chat_client import ChatClient, connect
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.integration.test_websocket import PATHS
from tests.payload_sizes import largest, run_histories
from tests.stack import RunningStack
from workflows.chat_session import PAYLOAD_BUDGET_BYTES, session_workflow_id

pytestmark = pytest.mark.integration

# 12 bytes each in a JSON payload: the longest message allowed is 96 KB of payload.
EMOJI = "\N{GRINNING FACE}"
# A 209 KB CSV whose summary lists every column (1.43 MB as one reply before the caps).
WIDE_CSV = (
    ",".join(f"column_{n:05}" for n in range(12_000)) + "\n" + ",".join(["1"] * 12_000) + "\n"
).encode()


def worst_message(n: int) -> str:
    return f"Our goal is {n} " + EMOJI * 7_980


async def answered(client: ChatClient, count: int) -> list[dict[str, object]]:
    """The next `count` chat_response frames."""
    responses: list[dict[str, object]] = []
    async with asyncio.timeout(240):
        while len(responses) < count:
            frame = await client.recv(wait_seconds=240)
            if frame["type"] == "chat_response":
                responses.append(frame)
            assert frame["type"] != "error", frame
    return responses


async def test_worst_case_inputs_keep_every_payload_within_the_budget(
    stack: RunningStack, temporal_client: Client
) -> None:
    # Few turns per run: pending turns cross continue-as-new several times.
    settings = settings_for(stack).model_copy(update={"max_turns_per_run": 8})
    async with run_worker(settings, BuiltInResponder()), serve_edge(settings) as ws_url:
        async with connect(ws_url, PATHS["business_outcomes_liaison"]) as liaison:
            created = await liaison.recv()
            token, session_id = str(created["session_token"]), str(created["session_id"])
            await liaison.recv_type("conversation_restored")
            # Sent at once: most wait as pending turns while earlier ones are answered.
            for n in range(25):
                await liaison.chat(worst_message(n), f"goal-{n}")
            await answered(liaison, 25)
            roadmap = await liaison.turn("Build a roadmap from our goals")
        http_url = ws_url.replace("ws://", "http://")
        async with httpx.AsyncClient(base_url=http_url, timeout=60) as http:
            uploaded = await http.post(
                "/api/uploads",
                params={"session_token": token, "filename": "wide.csv"},
                content=WIDE_CSV,
                headers={"content-type": "text/csv"},
            )
        assert uploaded.status_code == 201
        async with connect(ws_url, PATHS["insights_liaison"], session_token=token) as insights:
            await insights.recv_type("conversation_restored")
            summary = await insights.turn("Give me summary statistics for wide.csv")
    histories = await run_histories(temporal_client, session_workflow_id(session_id))
    biggest_payload, biggest_event = largest(histories)
    assert roadmap["message"] and summary["message"]
    assert "Truncated" in str(summary["message"])
    assert len(histories) > 2  # the pending turns did travel through continue-as-new
    assert biggest_payload <= PAYLOAD_BUDGET_BYTES, biggest_payload
    assert biggest_event <= PAYLOAD_BUDGET_BYTES, biggest_event
