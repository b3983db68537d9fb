"""How the REST edge reports a request it cannot validate."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 naming each bad field, without echoing the input.

    FastAPI's default answer repeats the input, which cannot even be encoded when it holds a
    lone surrogate (a 500), and which would send a message body back verbatim.
    """
    assert isinstance(error, RequestValidationError)
    detail = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)
