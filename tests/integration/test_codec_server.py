"""The payload codec endpoint on a real uvicorn and Redis, as the Temporal UI calls it."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as redis
from pydantic import SecretStr
from temporalio.converter import DataConverter, WorkflowSerializationContext

from api.codec_server import SHREDDED_NOTICE, create_codec_app
from foundations.payload_codec import ChatPayloadCodec
from foundations.payload_keys import PayloadKeyStore
from foundations.settings import Settings
from tests.serve_app import serving

OPERATOR = "operator-credential-for-tests"
UI_ORIGIN = "http://127.0.0.1:8233"


@pytest.fixture
async def codec_url(lone_redis_url: str) -> AsyncIterator[str]:
    settings = Settings(redis_url=lone_redis_url, codec_operator_token=SecretStr(OPERATOR))
    async with serving(create_codec_app(settings)) as url:
        yield f"{url}/codec"


def as_json(text: str) -> dict[str, object]:
    payload = DataConverter.default.payload_converter.to_payloads([text])[0]
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


def text_of(payload: dict[str, object]) -> str:
    data = payload["data"]
    assert isinstance(data, str)
    return str(json.loads(base64.b64decode(data)))


AUTH = {"Authorization": f"Bearer {OPERATOR}", "X-Namespace": "default"}


async def sealed_for(redis_url: str, workflow_id: str, text: str) -> dict[str, object]:
    """A payload as the worker would have stored it for this chat, in protobuf JSON."""
    client = redis.Redis.from_url(redis_url)
    codec = ChatPayloadCodec(PayloadKeyStore(client, 0)).with_context(
        WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)
    )
    [sealed] = await codec.encode(DataConverter.default.payload_converter.to_payloads([text]))
    await client.aclose()
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
        "data": base64.b64encode(sealed.data).decode(),
    }


async def test_an_operator_reads_a_chats_payload_until_the_chat_is_deleted(
    codec_url: str, lone_redis_url: str
) -> None:
    sealed = await sealed_for(lone_redis_url, "chat-session-ui", "hello from a customer")
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{codec_url}/decode", json={"payloads": [sealed]}, headers=AUTH)
        assert answer.status_code == 200
        assert text_of(answer.json()["payloads"][0]) == "hello from a customer"

        client = redis.Redis.from_url(lone_redis_url)
        await PayloadKeyStore(client, 0).delete("chat-session-ui")
        await client.aclose()
        # The server cached the key for PAYLOAD_KEY_CACHE_SECONDS; a fresh server has not.
    settings = Settings(redis_url=lone_redis_url, codec_operator_token=SecretStr(OPERATOR))
    async with serving(create_codec_app(settings)) as fresh, httpx.AsyncClient() as http:
        answer = await http.post(f"{fresh}/codec/decode", json={"payloads": [sealed]}, headers=AUTH)
        assert answer.status_code == 200
        assert text_of(answer.json()["payloads"][0]) == SHREDDED_NOTICE


async def test_encode_then_decode_round_trips(codec_url: str) -> None:
    async with httpx.AsyncClient() as http:
        encoded = await http.post(
            f"{codec_url}/encode", json={"payloads": [as_json("signal input")]}, headers=AUTH
        )
        assert encoded.status_code == 200
        [sealed] = encoded.json()["payloads"]
        assert b"signal input" not in base64.b64decode(sealed["data"])
        decoded = await http.post(f"{codec_url}/decode", json=encoded.json(), headers=AUTH)
        assert text_of(decoded.json()["payloads"][0]) == "signal input"


async def test_without_the_operator_credential_nothing_is_decoded(
    codec_url: str, lone_redis_url: str
) -> None:
    sealed = await sealed_for(lone_redis_url, "chat-session-ui2", "private")
    async with httpx.AsyncClient() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": OPERATOR}):
            answer = await http.post(
                f"{codec_url}/decode", json={"payloads": [sealed]}, headers=headers
            )
            assert answer.status_code == 401
            assert "private" not in answer.text


async def test_with_no_credential_configured_the_endpoint_is_off(lone_redis_url: str) -> None:
    app = create_codec_app(Settings(redis_url=lone_redis_url))
    async with serving(app) as url, httpx.AsyncClient() as http:
        answer = await http.post(
            f"{url}/codec/decode",
            json={"payloads": []},
            headers={"Authorization": "Bearer anything"},
        )
        assert answer.status_code == 403
        assert "CODEC_OPERATOR_TOKEN" in answer.json()["detail"]


async def test_a_bad_body_is_told_what_shape_to_send(codec_url: str) -> None:
    async with httpx.AsyncClient() as http:
        for body in (b"not json", b'{"payloads": "x"}'):
            answer = await http.post(f"{codec_url}/decode", content=body, headers=AUTH)
            assert answer.status_code == 400
            assert "payloads" in answer.json()["detail"]


async def test_the_temporal_ui_may_call_it_from_the_browser(codec_url: str) -> None:
    async with httpx.AsyncClient() as http:
        preflight = await http.options(
            f"{codec_url}/decode",
            headers={
                "Origin": UI_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == UI_ORIGIN
        stranger = await http.options(
            f"{codec_url}/decode",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in stranger.headers
