"""A reply provider for any OpenAI-compatible Chat Completions server, streamed.

Works against OpenAI, vLLM, Ollama and LM Studio: `POST {base_url}/chat/completions` with
`stream: true`, read as server-sent events until `data: [DONE]`. It retries nothing: failures
are mapped to `ReplyUnavailable` (retryable, with the server's Retry-After) or `ReplyRejected`
(not retryable), and Temporal's retry policy decides what happens next.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from agents.catalog import AgentType
from agents.prompts import default_system_prompts
from agents.replies import ReplyContext, ReplyRejected, ReplyUnavailable
from agents.retrieval import KnowledgeIndex, shared_index

logger = logging.getLogger(__name__)

# Reading may pause between tokens while the model thinks; connecting should not.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=10.0, pool=10.0)
# Statuses a later attempt may get past: timeout, conflict, rate limit, server trouble.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# How many knowledge passages ground each request.
GROUNDING_PASSAGES = 2


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The server's requested wait: `retry-after-ms`, or `Retry-After` in seconds or as a date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _error_detail(body: bytes) -> str:
    """The server's own explanation, short: `{"error": {"message": ...}}` or the raw text."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace").strip()[:200]
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or error)[:200]
        return str(error)[:200]
    return str(payload)[:200]


class OpenAICompatibleProvider:
    """Streams replies from an OpenAI-compatible Chat Completions endpoint."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        system_prompts: Mapping[AgentType, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        knowledge: KnowledgeIndex | None = None,
        grounding: bool = True,
    ) -> None:
        """`http_client` is borrowed, not closed; without one, each reply opens its own."""
        self._url = f"{base_url.rstrip('/')}/chat/completions"
        self._api_key = api_key
        self._model = model
        self._system_prompts = dict(system_prompts or default_system_prompts())
        self._client = http_client
        self._timeout = timeout
        self._knowledge = knowledge
        self._grounding = grounding

    def messages(self, context: ReplyContext) -> list[dict[str, str]]:
        """The Chat Completions messages: system prompt, the window, the new message."""
        system = self._system_prompts.get(context.author, "")
        if self._grounding:
            index = self._knowledge or shared_index()
            found = index.search(
                context.message,
                limit=GROUNDING_PASSAGES,
                agents=[context.author],
                include_about=False,
            )
            if found:
                notes = "\n".join(f"- {s.passage.title}: {s.passage.text}" for s in found)
                system += f"\n\nReference notes:\n{notes}"
        if context.capability is not None:
            outcome = context.capability
            status = "succeeded" if outcome.ok else "could not complete"
            system += f"\n\nCapability result ({outcome.capability}, {status}):\n{outcome.summary}"
        return [
            {"role": "system", "content": system},
            *({"role": m.role, "content": m.content} for m in context.window),
            {"role": "user", "content": context.message},
        ]

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            # Local servers (Ollama, LM Studio) need no key; never send an empty bearer.
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    async def stream_reply(self, context: ReplyContext) -> AsyncIterator[str]:
        body = {"model": self._model, "stream": True, "messages": self.messages(context)}
        try:
            if self._client is not None:
                async for delta in self._stream(self._client, body):
                    yield delta
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    async for delta in self._stream(client, body):
                        yield delta
        except httpx.TimeoutException as error:
            raise ReplyUnavailable(
                f"the model server timed out ({type(error).__name__})"
            ) from error
        except httpx.TransportError as error:
            # Refused connections and streams cut in the middle both land here.
            raise ReplyUnavailable(
                f"the connection to the model server failed ({type(error).__name__})"
            ) from error

    async def _stream(self, client: httpx.AsyncClient, body: dict[str, Any]) -> AsyncIterator[str]:
        async with client.stream(
            "POST", self._url, json=body, headers=self._headers(), timeout=self._timeout
        ) as response:
            if response.status_code != 200:
                detail = _error_detail(await response.aread())
                status = response.status_code
                message = f"the model server answered {status}: {detail}"
                if status in RETRYABLE_STATUSES or status >= 500:
                    raise ReplyUnavailable(message, retry_after_seconds(response.headers))
                raise ReplyRejected(message)
            async for delta in _deltas(response):
                yield delta


async def _deltas(response: httpx.Response) -> AsyncIterator[str]:
    """The content deltas of an SSE Chat Completions stream; it must end with [DONE]."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
            continue
        if line or not data:
            continue  # comments (": keep-alive"), other fields, blank lines between events
        event, data = "\n".join(data), []
        if event.strip() == "[DONE]":
            return
        delta = _delta(event)
        if delta:
            yield delta
    if data and "\n".join(data).strip() == "[DONE]":
        return  # a last event without its blank line
    raise ReplyUnavailable("the model server ended the stream before [DONE]")


def _delta(event: str) -> str | None:
    try:
        chunk = json.loads(event)
    except ValueError:
        raise ReplyUnavailable("the model server sent a malformed stream event") from None
    if not isinstance(chunk, dict):
        return None
    if "error" in chunk:
        raise ReplyUnavailable(
            f"the model server reported an error: {_error_detail(event.encode())}"
        )
    for choice in chunk.get("choices") or []:
        content = (choice.get("delta") or {}).get("content")
        if isinstance(content, str) and content:
            return content
    return None  # role-only first chunk, finish chunk, usage chunk
