"""Accepted means answered: a failed reply stays visible, a message of a lost run is answered."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import Client

from agents.builtin import BuiltInResponder
from agents.openai_compatible import OpenAICompatibleProvider
from tests.integration.chat_client import connect
from tests.integration.custom_edge import run_worker, serve_edge, settings_for
from tests.integration.test_websocket import PATHS, open_session
from tests.sse_server import ChatServer, status
from tests.stack import RunningStack
from workflows.chat_session import session_workflow_id

pytestmark = pytest.mark.integration

# What a model server's error body can look like: it quotes part of the key it was sent.
LEAKY_ERROR = {"error": {"message": "Incorrect API key provided: sk-test-SECRET-1234"}}


async def test_a_failed_reply_shows_generic_words_and_survives_a_reload(
    stack: RunningStack, server: ChatServer
) -> None:
    server.script = [status(401, LEAKY_ERROR)]
    settings = settings_for(stack)
    provider = OpenAICompatibleProvider(server.base_url, "sk-test-SECRET-1234", "test-model")
    async with run_worker(settings, provider), serve_edge(settings) as ws_url:
        async with connect(ws_url, PATHS["guide"]) as guide:
            token, _ = await open_session(guide)
            await guide.chat("hello?", "c-1")
            accepted = await guide.recv_type("message_accepted")
            error = await guide.recv_type("error", wait_seconds=20)
        async with connect(ws_url, PATHS["guide"], session_token=token) as reloaded:
            restored = await reloaded.recv()
    assert error["code"] == "reply_failed" and error["in_reply_to"] == accepted["message_id"]
    assert "SECRET" not in error["message"] and "API key" not in error["message"]
    assert "could not answer" in error["message"]
    # The reloaded page has the failure, in the reply's place, and nothing of the upstream text.
    assert [m["role"] for m in restored["messages"]] == ["user", "error"]
    notice = restored["messages"][1]
    assert notice["in_reply_to"] == accepted["message_id"] and notice["code"] == "reply_failed"
    assert notice["content"] == error["message"]


async def test_a_resend_after_the_run_that_recorded_it_was_lost_is_answered(
    stack: RunningStack, temporal_client: Client
) -> None:
    settings = settings_for(stack)
    # Slow enough that the run is gone before its reply is recorded.
    slow = BuiltInResponder(delta_delay=timedelta(milliseconds=300))
    async with (
        run_worker(settings, slow),
        serve_edge(settings) as ws_url,
        connect(ws_url, PATHS["guide"]) as guide,
    ):
        created = await guide.recv()
        await guide.recv_type("conversation_restored")
        await guide.chat("How do I get started?", "c-lost")
        accepted = await guide.recv_type("message_accepted")
        await guide.recv_type("chat_chunk")
        await temporal_client.get_workflow_handle(
            session_workflow_id(str(created["session_id"]))
        ).terminate("lost run")
        # The page never saw the reply: it sends the message again, under the same id.
        await guide.chat("How do I get started?", "c-lost")
        async with asyncio.timeout(60):
            while True:
                frame = await guide.recv(wait_seconds=60)
                if frame["type"] == "chat_response":
                    break
    assert frame["in_reply_to"] == accepted["message_id"]
    assert frame["message"]
