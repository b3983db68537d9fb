"""File uploads for the Content and Insights pillars: `POST /api/uploads`."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from fastapi import APIRouter, Query, Request

from agents.capabilities import MAX_UPLOAD_BYTES
from api.deps import Edge
from api.errors import EdgeError
from foundations.errors import ErrorCode

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
    session = await edge.sdk.session(session_token)
    if not _FILENAME.match(filename) or filename in {".", ".."}:
        raise EdgeError(
            ErrorCode.INVALID_REQUEST, "filename must be a plain file name, without folders."
        )
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
    # TooManyUploads is answered by the error table (api/errors.py).
    metadata = await edge.uploads.save(
        session.session_id, filename, bytes(data), request.headers.get("content-type")
    )
    return dataclasses.asdict(metadata)


@router.get("")
async def list_uploads(edge: Edge, session_token: str) -> list[dict[str, Any]]:
    """The session's uploads, oldest first."""
    session = await edge.sdk.session(session_token)
    return [dataclasses.asdict(item) for item in await edge.uploads.list(session.session_id)]
