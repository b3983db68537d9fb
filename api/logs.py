"""Logging for the edge: session tokens never reach a log line.

Tokens travel in query strings (`?session_token=…`), and uvicorn logs request lines and
WebSocket paths with their query strings.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_TOKEN = re.compile(r"(session_token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Replaces the value of every `session_token=` in a record with `<redacted>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "session_token=" in message:
            record.msg, record.args = _TOKEN.sub(r"\1<redacted>", message), None
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with tokens redacted on every handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_tokens": {"()": RedactTokens}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_tokens"]
    return config
