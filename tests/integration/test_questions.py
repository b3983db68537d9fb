"""Agents that ask before they act, on the real stack: an SOP draft waits for approval, answered
over the socket (every tab sees it, a reload restores it, a second answer is refused) and over
REST (list, edit, refusals); a missing input is asked for and the answer resumes the turn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from agents.builtin import BuiltInResponder
from tests.integration.chat_client import ChatClient, connect
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.integration.test_websocket import PATHS, open_session
from tests.stack import RunningStack

pytestmark = pytest.mark.integration

OPERATIONS = PATHS["operations_liaison"]
SOP_REQUEST = (
    "Write an SOP for onboarding:\n"
    "1. Greet the new hire\n"
    "2. Set up their laptop\n"
    "3. Book a welcome lunch"
)


@pytest.fixture
async def ws_url(stack: RunningStack) -> AsyncIterator[str]:
    """An edge and a worker with the default policy: drafting an SOP asks first."""
    settings = settings_for(stack).model_copy(update={"ask_before_acting": True})
    async with run_worker(settings, BuiltInResponder()), serve_edge(settings) as url:
        yield url


async def question(client: ChatClient) -> dict[str, object]:
    return await client.recv_type("question_asked", wait_seconds=20)


async def test_an_sop_draft_waits_for_approval_given_over_the_socket(ws_url: str) -> None:
    async with connect(ws_url, OPERATIONS) as tab_one:
        token, _ = await open_session(tab_one)
        async with connect(ws_url, OPERATIONS, session_token=token) as tab_two:
            await tab_two.recv_type("conversation_restored")
            await tab_one.chat(SOP_REQUEST, "c-1")
            accepted = await tab_one.recv_type("message_accepted")
            asked = await question(tab_one)
            assert asked == {**await question(tab_two), "event_id": asked["event_id"]}
            assert (asked["kind"], asked["capability"]) == ("approval", "build_sop")
            assert asked["in_reply_to"] == accepted["message_id"]
            assert "Set up their laptop" in asked["inputs"]["steps"]  # type: ignore[index]
            # Nothing ran: no reply while the question is open.
            assert not any(f["type"] == "chat_response" for f in tab_one.received)
            # A reloaded page shows the open question right after the history.
            async with connect(ws_url, OPERATIONS, session_token=token) as reloaded:
                assert (await reloaded.recv())["type"] == "conversation_restored"
                restored = await reloaded.recv()
                assert (restored["type"], restored["question_id"]) == (
                    "question_asked",
                    asked["question_id"],
                )
            await tab_two.send(
                {
                    "type": "answer_question",
                    "question_id": asked["question_id"],
                    "decision": "approve",
                }
            )
            for tab in (tab_one, tab_two):
                resolved = await tab.recv_type("question_resolved")
                assert (resolved["question_id"], resolved["outcome"]) == (
                    asked["question_id"],
                    "approved",
                )
            reply = await tab_one.recv_type("chat_response", wait_seconds=30)
            assert reply["in_reply_to"] == accepted["message_id"]
            assert "laptop" in reply["message"].lower()
            # The first answer won: a late one from the other tab is refused.
            await tab_one.send(
                {
                    "type": "answer_question",
                    "question_id": asked["question_id"],
                    "decision": "reject",
                }
            )
            refused = await tab_one.recv_type("error")
            assert refused["code"] == "question_closed"


async def test_an_sop_draft_is_listed_and_answered_over_rest(ws_url: str) -> None:
    http_url = ws_url.replace("ws://", "http://", 1)
    async with connect(ws_url, OPERATIONS) as tab, httpx.AsyncClient(base_url=http_url) as http:
        token, _ = await open_session(tab)
        await tab.chat(SOP_REQUEST, "c-1")
        asked = await question(tab)
        listed = await http.get("/api/chat/questions", params={"session_token": token})
        assert listed.status_code == 200
        [open_question] = listed.json()["questions"]
        assert open_question["question_id"] == asked["question_id"]
        answer_url = f"/api/chat/questions/{asked['question_id']}/answer"
        bad = await http.post(
            answer_url,
            params={"session_token": token},
            json={"decision": "edit", "inputs": {"budget": "5"}},
        )
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_answer")
        edited = await http.post(
            answer_url,
            params={"session_token": token},
            json={"decision": "edit", "inputs": {"steps": "1. Order a badge\n2. Plan week one"}},
        )
        assert edited.status_code == 200 and edited.json()["outcome"] == "edited"
        resolved = await tab.recv_type("question_resolved")
        assert resolved["answer"]["inputs"]["steps"].startswith("1. Order a badge")
        reply = await tab.recv_type("chat_response", wait_seconds=30)
        assert "badge" in reply["message"].lower()
        again = await http.post(
            answer_url, params={"session_token": token}, json={"decision": "approve"}
        )
        assert (again.status_code, again.json()["code"]) == (409, "question_closed")
        unknown = await http.post(
            "/api/chat/questions/q-" + "0" * 32 + "/answer",
            params={"session_token": token},
            json={"decision": "approve"},
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_question")
        listed = await http.get("/api/chat/questions", params={"session_token": token})
        assert listed.json()["questions"] == []
        # A REST turn that asks returns the question instead of waiting for a reply.
        turn = await http.post(
            "/api/chat/liaison",
            json={
                "message": "Write an SOP for onboarding",
                "pillar": "operations",
                "session_token": token,
            },
            timeout=60,
        )
        assert turn.status_code == 200
        # The steps described earlier in the conversation are found: it asks to approve.
        assert turn.json()["question"]["kind"] == "approval"
        assert turn.json()["message"] == turn.json()["question"]["prompt"]


async def test_a_missing_file_is_asked_for_and_the_upload_resumes_the_turn(ws_url: str) -> None:
    http_url = ws_url.replace("ws://", "http://", 1)
    async with (
        connect(ws_url, PATHS["content_liaison"]) as tab,
        httpx.AsyncClient(base_url=http_url) as http,
    ):
        token, _ = await open_session(tab)
        await tab.chat("Please parse my file", "c-1")
        accepted = await tab.recv_type("message_accepted")
        asked = await question(tab)
        assert (asked["kind"], asked["in_reply_to"]) == ("file", accepted["message_id"])
        frame = {"type": "answer_question", "question_id": asked["question_id"]}
        await tab.send({**frame, "upload": "notes.txt"})  # not uploaded yet
        assert (await tab.recv_type("error"))["code"] == "invalid_answer"
        uploaded = await http.post(
            "/api/uploads",
            params={"session_token": token, "filename": "notes.txt"},
            content=b"alpha\nbeta\ngamma\n",
            headers={"content-type": "text/plain"},
        )
        assert uploaded.status_code == 201
        await tab.send({**frame, "upload": "notes.txt"})
        assert (await tab.recv_type("question_resolved"))["outcome"] == "answered"
        # Reading a file keeps a stored result: the same turn now asks for approval.
        approval = await question(tab)
        assert approval["kind"] == "approval" and approval["inputs"] == {"file": "notes.txt"}
        await tab.send(
            {
                "type": "answer_question",
                "question_id": approval["question_id"],
                "decision": "approve",
            }
        )
        reply = await tab.recv_type("chat_response", wait_seconds=30)
    assert reply["in_reply_to"] == accepted["message_id"]
    assert "notes.txt" in reply["message"]
