"""The sizes of the payloads a workflow history holds, for the payload budget tests."""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory


def payloads(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere inside `message`."""
    if isinstance(message, Payload):
        yield message
        return
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            items = value.values()
        elif descriptor.is_repeated:
            items = value
        else:
            items = [value]
        for item in items:
            if isinstance(item, Message):
                yield from payloads(item)


def payload_sizes(message: Message) -> Iterator[int]:
    """The size of every Payload anywhere inside `message`."""
    return (payload.ByteSize() for payload in payloads(message))


async def run_histories(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The histories of every run of a workflow, oldest first (following continue-as-new)."""
    histories: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.insert(0, history)
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return histories
        run_id = started.continued_execution_run_id


def largest(histories: list[WorkflowHistory]) -> tuple[int, int]:
    """The largest single payload and the largest event, in bytes."""
    events = [event for history in histories for event in history.events]
    biggest_payload = max((size for event in events for size in payload_sizes(event)), default=0)
    return biggest_payload, max(event.ByteSize() for event in events)
