"""The agents over the real WebSocket protocol: handoff, capabilities, Stop, a real model's wire."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from agents.builtin import BuiltInResponder
from agents.openai_compatible import OpenAICompatibleProvider
from tests.integration.chat_client import connect
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.integration.test_websocket import PATHS, open_session
from tests.sse_server import ChatServer, sse, status
from tests.stack import RunningStack

pytestmark = pytest.mark.integration

SALES_CSV = b"region,month,revenue\nnorth,jan,100\nsouth,jan,300\nnorth,feb,200\nsouth,feb,400\n"


async def test_the_guide_hands_a_pillar_question_to_its_liaison(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["guide"]) as guide:
        token, _ = await open_session(guide)
        response = await guide.turn("Which file formats can I upload, and is CSV supported?")
    handoff = next(f for f in guide.received if f["type"] == "handoff")
    assert (handoff["from"], handoff["to"], handoff["to_pillar"]) == (
        "guide",
        "content_liaison",
        "content",
    )
    assert handoff["reason"] and handoff["in_reply_to"] == response["in_reply_to"]
    assert (response["agent_type"], response["pillar"]) == ("content_liaison", "content")
    assert "CSV" in response["message"]
    # The reply belongs to the guide's thread, written by the liaison.
    async with connect(stack.ws_url, PATHS["guide"], session_token=token) as again:
        restored = await again.recv()
    assert restored["messages"][-1]["agent_type"] == "content_liaison"


async def test_insights_summarises_an_uploaded_csv(stack: RunningStack) -> None:
    async with connect(stack.ws_url, PATHS["insights_liaison"]) as insights:
        token, _ = await open_session(insights)
        async with httpx.AsyncClient(base_url=stack.http_url) as http:
            uploaded = await http.post(
                "/api/uploads",
                params={"session_token": token, "filename": "sales.csv"},
                content=SALES_CSV,
                headers={"content-type": "text/csv"},
            )
            listed = (await http.get("/api/uploads", params={"session_token": token})).json()
        assert uploaded.status_code == 201 and uploaded.json()["kind"] == "csv"
        assert [item["name"] for item in listed] == ["sales.csv"]
        response = await insights.turn("Give me summary statistics for sales.csv")
    # Mean revenue 250, range 100 to 400: the reply cites the figures it computed.
    assert "250" in response["message"]
    assert "revenue" in response["message"]


async def test_a_capability_without_its_input_still_gets_a_helpful_reply(
    stack: RunningStack,
) -> None:
    async with connect(stack.ws_url, PATHS["insights_liaison"]) as insights:
        await open_session(insights)
        response = await insights.turn("What are the stats of my uploaded CSV?")
    assert "upload" in response["message"].lower()


async def test_uploads_are_checked(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        token = (await http.post("/api/chat/conversation/create")).json()["session_token"]
        forged = await http.post(
            "/api/uploads", params={"session_token": "x", "filename": "a.csv"}, content=b"a"
        )
        sneaky = await http.post(
            "/api/uploads",
            params={"session_token": token, "filename": "../etc/passwd"},
            content=b"a",
        )
        empty = await http.post(
            "/api/uploads", params={"session_token": token, "filename": "a.csv"}, content=b""
        )
        huge = await http.post(
            "/api/uploads",
            params={"session_token": token, "filename": "big.csv"},
            content=b"x" * (10 * 1024 * 1024 + 1),
        )
    assert (forged.status_code, sneaky.status_code, empty.status_code, huge.status_code) == (
        401,
        422,
        422,
        413,
    )


async def test_a_session_holds_a_bounded_number_of_files(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        token = (await http.post("/api/chat/conversation/create")).json()["session_token"]

        async def upload(name: str) -> int:
            response = await http.post(
                "/api/uploads",
                params={"session_token": token, "filename": name},
                content=b"a,b\n1,2\n",
            )
            return response.status_code

        stored = [await upload(f"file-{n}.csv") for n in range(20)]
        one_too_many = await upload("file-20.csv")
        replaced = await upload("file-3.csv")
    assert stored == [201] * 20
    assert (one_too_many, replaced) == (409, 201)


async def test_stop_cuts_a_streaming_reply_short_for_every_socket(stack: RunningStack) -> None:
    settings = settings_for(stack)
    slow = BuiltInResponder(delta_delay=timedelta(milliseconds=100))
    async with (
        run_worker(settings, slow),
        serve_edge(settings) as ws_url,
        connect(ws_url, PATHS["operations_liaison"]) as tab_one,
    ):
        token, _ = await open_session(tab_one)
        async with connect(ws_url, PATHS["operations_liaison"], session_token=token) as tab_two:
            await tab_two.recv()
            await tab_one.chat("What should a good SOP contain?")
            first_chunk = await tab_one.recv_type("chat_chunk")
            await tab_one.send({"type": "cancel", "message_id": first_chunk["message_id"]})
            stopped = await tab_one.recv_type("chat_response", wait_seconds=10)
            mirrored = await tab_two.recv_type("chat_response", wait_seconds=10)
            reply = await tab_one.turn("Thanks. And what is a process map?")
    assert stopped["cancelled"] is True and mirrored["cancelled"] is True
    streamed = tab_one.deltas(stopped["message_id"])
    assert stopped["message"] == streamed and len(streamed) > 0
    # The whole reply would take several seconds; Stop ended it well before.
    chunks = [
        f
        for f in tab_one.received
        if f["type"] == "chat_chunk" and f["message_id"] == stopped["message_id"]
    ]
    assert len(chunks) < 30
    assert reply["message"] and "cancelled" not in reply


async def test_a_model_stream_cut_midway_restarts_cleanly(
    stack: RunningStack, server: ChatServer
) -> None:
    server.script = [
        sse(["Uploads ", "accept ", "CSV"], cut_after=2),
        status(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}),
        sse(["Uploads ", "accept ", "CSV, ", "JSON ", "and ", "text."]),
    ]
    settings = settings_for(stack)
    provider = OpenAICompatibleProvider(server.base_url, "sk-test", "test-model")
    async with (
        run_worker(settings, provider),
        serve_edge(settings) as ws_url,
        connect(ws_url, PATHS["content_liaison"]) as content,
    ):
        await open_session(content)
        response = await asyncio.wait_for(content.turn("Which formats can I upload?"), 30)
    types = [f["type"] for f in content.received if f["type"] in ("chat_chunk", "reply_restarted")]
    restart = types.index("reply_restarted")
    assert restart >= 1 and set(types[:restart]) == {"chat_chunk"}
    assert response["message"] == "Uploads accept CSV, JSON and text."
    after_restart = [
        f["delta"]
        for f in content.received[
            content.received.index(
                next(f for f in content.received if f["type"] == "reply_restarted")
            ) :
        ]
        if f["type"] == "chat_chunk"
    ]
    assert "".join(after_restart) == response["message"]
    assert len(server.requests) == 3
    assert server.requests[0].body["stream"] is True


async def test_a_request_the_model_refuses_becomes_an_error_and_the_session_lives_on(
    stack: RunningStack, server: ChatServer
) -> None:
    server.script = [
        status(400, {"error": {"message": "context length exceeded"}}),
        sse(["Still ", "here."]),
    ]
    settings = settings_for(stack)
    provider = OpenAICompatibleProvider(server.base_url, "sk-test", "test-model")
    async with (
        run_worker(settings, provider),
        serve_edge(settings) as ws_url,
        connect(ws_url, PATHS["guide"]) as guide,
    ):
        await open_session(guide)
        await guide.chat("a question the model refuses")
        error = await guide.recv_type("error", wait_seconds=20)
        response = await guide.turn("are you there?")
    # The model server's words stay in the worker's log.
    assert error["code"] == "reply_failed" and "context length" not in error["message"]
    assert response["message"] == "Still here."
    assert len(server.requests) == 2


async def test_a_page_loaded_mid_reply_gets_all_of_it_even_with_a_message_queued_after(
    stack: RunningStack,
) -> None:
    settings = settings_for(stack)
    slow = BuiltInResponder(delta_delay=timedelta(milliseconds=40))
    async with (
        run_worker(settings, slow),
        serve_edge(settings) as ws_url,
        connect(ws_url, PATHS["guide"]) as first_tab,
    ):
        token, _ = await open_session(first_tab)
        await first_tab.chat("Tell me about the platform")
        await first_tab.recv_type("chat_chunk")
        await first_tab.chat("And what does Insights do?")
        await first_tab.recv_type("message_accepted")
        async with connect(ws_url, PATHS["guide"], session_token=token) as late_tab:
            restored = await late_tab.recv()
            reply = await late_tab.recv_type("chat_response", wait_seconds=20)
    assert [m["role"] for m in restored["messages"]] == ["user", "user"]
    assert late_tab.deltas(reply["message_id"]) == reply["message"]
