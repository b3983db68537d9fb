"""Limits that are settings, declared in the OpenAPI document the request models generate.

A model cannot know a limit that is configured (the message length, a share link's longest
life), yet a client must: a request past it is refused with 422. Each entry names the model,
the field and the JSON Schema keyword (`maxLength`, `maximum`) that carries the value.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from fastapi import FastAPI
from pydantic import BaseModel


class Limit(NamedTuple):
    model: type[BaseModel]
    field: str
    keyword: str
    value: int


def declare_limits(app: FastAPI, limits: list[Limit]) -> None:
    """Put configured limits into the app's OpenAPI document, once, when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            components = build()["components"]["schemas"]
            for limit in limits:
                properties = components[limit.model.__name__]["properties"]
                properties[limit.field][limit.keyword] = limit.value
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
