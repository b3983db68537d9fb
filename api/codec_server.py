"""The payload codec endpoint: lets operators read encrypted payloads in the Temporal UI.

The Temporal UI (and `temporal` CLI with `--codec-endpoint`) POSTs `{"payloads": [...]}` in
protobuf JSON (base64 `data` and metadata values) to `{endpoint}/decode` and `/encode`, and
shows what comes back. Every request must carry `Authorization: Bearer <CODEC_OPERATOR_TOKEN>`
(in the UI: codec settings, "pass access token", or a proxy that adds the header); with no
token configured, every request is refused. Decoded payloads are customer text, so this is an
operator's tool: serve it on an internal address, never beside the public API.

A payload whose chat was deleted decodes to a short notice instead of failing the page.

Run on its own (it needs only Redis):
`uvicorn --factory api.codec_server:create_codec_app --host 127.0.0.1 --port 8234`,
then set the UI's codec endpoint to `http://127.0.0.1:8234/codec`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import DataConverter

from api.body_limit import BodyLimit
from foundations.clients import open_redis
from foundations.payload_codec import ChatPayloadCodec, PayloadKeyGone
from foundations.payload_keys import open_payload_keys
from foundations.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# The UI decodes a page of history at a time; payloads are at most 2 MB each.
CODEC_BODY_BYTES = 16 * 1024 * 1024
SHREDDED_NOTICE = "[unreadable: this chat was deleted and its key destroyed]"

router = APIRouter(prefix="/codec")


def _codec(request: Request) -> ChatPayloadCodec:
    settings: Settings = request.app.state.settings
    expected = settings.codec_operator_token.get_secret_value()
    if not expected:
        raise HTTPException(403, "the codec endpoint is off: set CODEC_OPERATOR_TOKEN")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise HTTPException(401, "the operator credential is missing or wrong")
    return ChatPayloadCodec(request.app.state.payload_keys)


async def _payloads(request: Request) -> list[Payload]:
    try:
        body = await request.body()
        parsed = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, DecodeError, UnicodeDecodeError) as error:
        raise HTTPException(400, 'the body must be {"payloads": [...]} in protobuf JSON') from error
    return list(parsed.payloads)


def _answer(payloads: list[Payload]) -> dict[str, object]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


@router.post("/encode")
async def encode(request: Request) -> dict[str, object]:
    """Encrypts under the shared key: the UI does not say which workflow a payload is for."""
    codec = _codec(request)
    return _answer(await codec.encode(await _payloads(request)))


@router.post("/decode")
async def decode(request: Request) -> dict[str, object]:
    """Decrypts each payload; one whose chat was deleted becomes a notice."""
    codec = _codec(request)
    decoded = []
    for payload in await _payloads(request):
        try:
            decoded.extend(await codec.decode([payload]))
        except PayloadKeyGone:
            notice = DataConverter.default.payload_converter.to_payloads([SHREDDED_NOTICE])
            decoded.extend(notice)
        except ValueError as error:
            raise HTTPException(400, "a payload failed authentication") from error
    return _answer(decoded)


def create_codec_app(settings: Settings | None = None) -> FastAPI:
    """The codec endpoint as an application of its own, for an internal port."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis_client = open_redis(settings)
        app.state.settings = settings
        app.state.payload_keys = open_payload_keys(settings, redis_client)
        yield
        await redis_client.aclose()

    app = FastAPI(title="Payload codec", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(router)
    app.add_middleware(BodyLimit, limit=CODEC_BODY_BYTES)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.codec_allowed_origins,
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
    )
    return app
