"""File uploads for the Content and Insights pillars: `POST /api/uploads`."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fastapi import APIRouter, Query, Request

from agents.capabilities import MAX_UPLOAD_BYTES
from agents.capabilities.content import describe_upload
from api import errors
from api.deps import CallerOf, Edge
from api.errors import EdgeError
from foundations.errors import ErrorCode

router = APIRouter(prefix="/api/uploads", tags=["uploads"])

# A plain file name: no folders, no control characters, not "." or "..". Without lookaheads,
# which JSON Schema validators do not share.
_NAME_CHAR = r"[^/\\\x00-\x1f]"
_NAME_START = r"[^/\\\x00-\x1f.]"
FILENAME_PATTERN = (
    f"^({_NAME_START}{_NAME_CHAR}{{0,199}}"
    f"|\\.{_NAME_START}{_NAME_CHAR}{{0,198}}"
    f"|\\.\\.{_NAME_CHAR}{{1,198}})$"
)
# The file's bytes are the body, read as a stream; the document says so.
_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary", "minLength": 1}
            }
        },
    }
}


@router.post(
    "",
    status_code=201,
    responses=errors.responses(401, 404, 409, 503),
    openapi_extra=_FILE_BODY,
)
async def upload_file(
    request: Request,
    edge: Edge,
    caller: CallerOf,
    session_token: str,
    filename: str = Query(pattern=FILENAME_PATTERN),
) -> dict[str, Any]:
    """Store the request body as a file of the session; its liaisons can then work on it.

    Send the file's bytes as the body (any content type). A file with the same name replaces
    the earlier one.
    """
    session = await edge.sdk.session(session_token, caller)
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_UPLOAD_BYTES:
            raise EdgeError(
                ErrorCode.BODY_TOO_LARGE,
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
            )
    if not data:
        raise EdgeError(ErrorCode.INVALID_REQUEST, "The file is empty.")
    content = bytes(data)
    # Hashing and decoding 10 MB is milliseconds of CPU, but not on the event loop.
    metadata = await asyncio.to_thread(
        describe_upload, filename, content, request.headers.get("content-type")
    )
    # TooManyUploads is answered by the error table (api/errors.py).
    await edge.uploads.save(session.session_id, filename, content, metadata)
    return dataclasses.asdict(metadata)


@router.get("", responses=errors.responses(401, 404, 503))
async def list_uploads(edge: Edge, caller: CallerOf, session_token: str) -> list[dict[str, Any]]:
    """The session's uploads, oldest first."""
    session = await edge.sdk.session(session_token, caller)
    return [dataclasses.asdict(item) for item in await edge.uploads.list(session.session_id)]
