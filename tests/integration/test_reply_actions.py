"""Steps, feedback, regenerate and edit-and-resend over the real stack (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.builtin import BuiltInResponder
from agents.evaluate_routing import evaluate, load_examples
from tests.integration.chat_client import ChatClient, connect
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.integration.test_agents import SALES_CSV
from tests.integration.test_websocket import PATHS, open_session
from tests.stack import RunningStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


async def _feedback_count(stack: RunningStack, rating: str, change: str) -> float:
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        text = (await http.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "chat_feedback_total" and sample.labels == {
                "rating": rating,
                "change": change,
            }:
                return sample.value
    return 0.0


async def _restored(stack: RunningStack, path: str, token: str) -> list[dict[str, object]]:
    async with connect(stack.ws_url, path, session_token=token) as again:
        restored = await again.recv()
    assert restored["type"] == "conversation_restored"
    return list(restored["messages"])


async def test_a_capability_run_is_a_step_of_its_reply_live_and_after_reconnect(
    stack: RunningStack,
) -> None:
    path = PATHS["insights_liaison"]
    async with connect(stack.ws_url, path) as insights:
        token, _ = await open_session(insights)
        async with (
            httpx.AsyncClient(base_url=stack.http_url) as http,
            connect(stack.ws_url, path, session_token=token) as other_tab,
        ):
            await other_tab.recv()
            uploaded = await http.post(
                "/api/uploads",
                params={"session_token": token, "filename": "sales.csv"},
                content=SALES_CSV,
                headers={"content-type": "text/csv"},
            )
            assert uploaded.status_code == 201
            response = await insights.turn("Give me summary statistics for sales.csv")
            mirrored = await other_tab.recv_type("step_finished")
    reply_id = response["message_id"]
    [started] = [f for f in insights.received if f["type"] == "step_started"]
    [finished] = [f for f in insights.received if f["type"] == "step_finished"]
    assert (started["message_id"], started["name"]) == (reply_id, "summarize_csv")
    assert "sales.csv" in started["summary"]
    assert (finished["step_id"], finished["outcome"]) == (started["step_id"], "done")
    assert finished["duration_ms"] >= 0 and mirrored == finished
    # The step comes before the reply's text.
    kinds = [f["type"] for f in insights.received]
    assert kinds.index("step_finished") < kinds.index("chat_chunk")
    # A reloaded page gets the step with the reply.
    reply = (await _restored(stack, path, token))[-1]
    assert reply["message_id"] == reply_id
    assert reply["steps"] == [
        {
            "step_id": started["step_id"],
            "name": "summarize_csv",
            "summary": started["summary"],
            "outcome": "done",
            "duration_ms": finished["duration_ms"],
        }
    ]
    assert reply["capability"] == "summarize_csv" and reply["provider"]


async def test_feedback_counts_once_per_reply_and_user_and_its_change_counts(
    stack: RunningStack, tmp_path: Path
) -> None:
    path = PATHS["guide"]
    up_new = await _feedback_count(stack, "up", "new")
    down_changed = await _feedback_count(stack, "down", "changed")
    async with connect(stack.ws_url, path) as guide:
        token, _ = await open_session(guide)
        first = await guide.turn("Which file formats can I upload, and is CSV supported?")
        rating = {"type": "feedback", "message_id": first["message_id"], "rating": "up"}
        await guide.send(rating)
        await guide.send({**rating, "reasons": ["helpful"], "comment": "clear"})
        recorded = [await guide.recv_type("feedback_recorded") for _ in range(2)]
        assert [r["rating"] for r in recorded] == ["up", "up"]
        assert await _feedback_count(stack, "up", "new") == up_new + 1
        # Changed over REST: the latest rating counts, and the change is counted.
        async with httpx.AsyncClient(base_url=stack.http_url) as http:
            changed = await http.put(
                "/api/chat/feedback",
                params={"session_token": token},
                json={
                    "message_id": first["message_id"],
                    "rating": "down",
                    "reasons": ["wrong_agent"],
                },
            )
            unknown = await http.put(
                "/api/chat/feedback",
                params={"session_token": token},
                json={"message_id": "r-m-" + "0" * 32, "rating": "up"},
            )
        assert changed.status_code == 200
        assert changed.json() == {"message_id": first["message_id"], "rating": "down"}
        assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_message")
        # Every tab of the conversation sees the change.
        assert (await guide.recv_type("feedback_recorded"))["rating"] == "down"
        assert await _feedback_count(stack, "down", "changed") == down_changed + 1
        assert await _feedback_count(stack, "up", "new") == up_new + 1
        second = await guide.turn("What can you help me with?")
        await guide.send({"type": "feedback", "message_id": second["message_id"], "rating": "up"})
        await guide.recv_type("feedback_recorded")
        # A reply of another conversation (or none) is refused.
        await guide.send({"type": "feedback", "message_id": "r-m-" + "1" * 32, "rating": "up"})
        refused = await guide.recv_type("error")
    assert refused["code"] == "unknown_message"
    # `make feedback-export` writes cases the routing evaluation takes.
    exported = tmp_path / "feedback.jsonl"
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "foundations.feedback", "--out", str(exported)],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": stack.redis_url},
        check=True,
        capture_output=True,
    )
    ours = [
        line
        for line in exported.read_text().splitlines()
        if json.loads(line)["session_id"] in {first["session_id"]}
    ]
    cases = {json.loads(line)["message_id"]: json.loads(line) for line in ours}
    assert cases.keys() == {first["message_id"], second["message_id"]}
    down, up = cases[first["message_id"]], cases[second["message_id"]]
    assert (down["rating"], down["label"], down["reasons"]) == ("down", None, ["wrong_agent"])
    assert down["text"] == "Which file formats can I upload, and is CSV supported?"
    assert (down["author"], down["route"]) == ("content_liaison", "guide->content_liaison")
    # A thumbs up confirms the route the turn took: the answering agent's pillar.
    routed = second["pillar"] or "guide"
    assert down["provider"] and (up["rating"], up["label"]) == ("up", routed)
    mine = tmp_path / "mine.jsonl"
    mine.write_text("\n".join(ours) + "\n")
    # The thumbs-down case waits for a person's label; the confirmed one is evaluated.
    [example] = load_examples(mine)
    assert (example.text, example.label) == ("What can you help me with?", routed)
    assert evaluate([example]).total == 1


def _responses(client: ChatClient, key: str, value: str) -> list[dict[str, object]]:
    return [f for f in client.received if f["type"] == "chat_response" and f.get(key) == value]


async def test_regenerate_sent_twice_with_the_same_client_id_runs_once(
    stack: RunningStack,
) -> None:
    path = PATHS["guide"]
    async with connect(stack.ws_url, path) as guide:
        token, _ = await open_session(guide)
        async with connect(stack.ws_url, path, session_token=token) as other_tab:
            await other_tab.recv()
            first = await guide.turn("What can you help me with?")
            again = {
                "type": "regenerate",
                "message_id": first["message_id"],
                "client_message_id": "regen-1",
            }
            await guide.send(again)
            await guide.send(again)
            regenerated = await guide.recv_type("chat_response")
            seen_elsewhere = await other_tab.recv_type("chat_response")
            while seen_elsewhere.get("regenerates") is None:
                seen_elsewhere = await other_tab.recv_type("chat_response")
            # A later turn is answered after anything the clicks queued.
            later = await guide.turn("Thanks!")
        # Regenerating a reply that is no longer the latest is refused.
        await guide.send({**again, "client_message_id": "regen-2"})
        refused = await guide.recv_type("error")
    assert regenerated["regenerates"] == first["message_id"]
    assert regenerated["in_reply_to"] == first["in_reply_to"]
    assert regenerated["message_id"] == f"{first['message_id']}-2"
    assert seen_elsewhere["message_id"] == regenerated["message_id"]
    assert len(_responses(guide, "regenerates", first["message_id"])) == 1
    assert later["message"] and refused["code"] == "not_latest_reply"
    # The history keeps both replies, the new one pointing at the old.
    messages = await _restored(stack, path, token)
    replies = [m for m in messages if m.get("in_reply_to") == first["in_reply_to"]]
    assert [m["message_id"] for m in replies] == [first["message_id"], regenerated["message_id"]]
    assert replies[1]["regenerates"] == first["message_id"]


async def test_edit_and_resend_during_a_streaming_reply_stops_it_and_answers_the_edit(
    stack: RunningStack,
) -> None:
    settings = settings_for(stack)
    slow = BuiltInResponder(delta_delay=timedelta(milliseconds=100))
    path = PATHS["operations_liaison"]
    async with (
        run_worker(settings, slow),
        serve_edge(settings) as ws_url,
        connect(ws_url, path) as tab_one,
    ):
        token, _ = await open_session(tab_one)
        async with connect(ws_url, path, session_token=token) as tab_two:
            await tab_two.recv()
            await tab_one.chat("What should a good SOP contain?", "first-1")
            accepted = await tab_one.recv_type("message_accepted")
            await tab_one.recv_type("chat_chunk")
            await tab_one.send(
                {
                    "type": "edit_message",
                    "message_id": accepted["message_id"],
                    "message": "What is a process map?",
                    "client_message_id": "edit-1",
                }
            )
            stopped = await tab_one.recv_type("chat_response", wait_seconds=10)
            edited = await tab_two.recv_type("message_edited", wait_seconds=10)
            async with asyncio.timeout(60):
                answer = await tab_two.recv_type("chat_response")
                while answer["in_reply_to"] != edited["new_message_id"]:
                    answer = await tab_two.recv_type("chat_response")
        async with connect(ws_url, path, session_token=token) as reloaded:
            restored = await reloaded.recv()
    assert (stopped["in_reply_to"], stopped["cancelled"]) == (accepted["message_id"], True)
    assert edited["message_id"] == accepted["message_id"]
    assert edited["message"] == "What is a process map?"
    assert answer["message"] and "cancelled" not in answer
    # The history keeps both versions: the new message refers to the one it replaces.
    by_id = {m["message_id"]: m for m in restored["messages"]}
    assert by_id[accepted["message_id"]]["content"] == "What should a good SOP contain?"
    assert by_id[edited["new_message_id"]]["edits"] == accepted["message_id"]
    assert by_id[stopped["message_id"]]["cancelled"] is True
