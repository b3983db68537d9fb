"""File uploads for the Content and Insights pillars: `POST /api/uploads`."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from agents.capabilities import MAX_UPLOAD_BYTES
from agents.capabilities.content import describe_upload
from api.agent_sdk import InvalidToken
from api.deps import Edge
from foundations.sessions import SessionRecord
from foundations.uploads import TooManyUploads

router = APIRouter(prefix="/api/uploads", tags=["uploads"])

_FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")


@router.post("", status_code=201)
async def upload_file(
    request: Request, edge: Edge, session_token: str, filename: str = Query(max_length=200)
) -> dict[str, Any]:
    """Store the request body as a file of the session; its liaisons can then work on it.

    Send the file's bytes as the body (any content type). A file with the same name replaces
    the earlier one.
    """
    session = await _session(edge, session_token)
    if not _FILENAME.match(filename) or filename in {".", ".."}:
        raise HTTPException(422, "filename must be a plain file name, without folders.")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(
                413, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )
    if not data:
        raise HTTPException(422, "The file is empty.")
    content = bytes(data)
    # Hashing and decoding 10 MB is milliseconds of CPU, but not on the event loop.
    metadata = await asyncio.to_thread(
        describe_upload, filename, content, request.headers.get("content-type")
    )
    try:
        await edge.uploads.save(session.session_id, filename, content, metadata)
    except TooManyUploads as error:
        raise HTTPException(409, str(error)) from None
    return dataclasses.asdict(metadata)


@router.get("")
async def list_uploads(edge: Edge, session_token: str) -> list[dict[str, Any]]:
    """The session's uploads, oldest first."""
    session = await _session(edge, session_token)
    return [dataclasses.asdict(item) for item in await edge.uploads.list(session.session_id)]


async def _session(edge: Edge, token: str) -> SessionRecord:
    try:
        return await edge.sdk.session(token)
    except InvalidToken as error:
        raise HTTPException(401, str(error)) from None
