"""Workflow history events, counted over every run of a workflow id (continue-as-new included)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


async def history_events(client: Client, workflow_id: str) -> Counter[str]:
    """Event counts by type over the whole continue-as-new chain, newest run first."""
    counts: Counter[str] = Counter()
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        for event in history.events:
            counts[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return counts
        run_id = started.continued_execution_run_id


async def events_per_operation(
    client: Client, workflows: Iterable[tuple[str, int]], concurrency: int = 20
) -> dict[str, object]:
    """Events per turn (or update) over the given (workflow id, operations it ran) pairs."""
    gate = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str) -> Counter[str]:
        async with gate:
            return await history_events(client, workflow_id)

    pairs = list(workflows)
    counts: Counter[str] = Counter()
    for each in await asyncio.gather(*(one(workflow_id) for workflow_id, _ in pairs)):
        counts.update(each)
    operations = sum(done for _, done in pairs)
    if not operations:
        return {"workflows": len(pairs), "operations": 0}
    return {
        "workflows": len(pairs),
        "operations": operations,
        "events_per_operation": round(sum(counts.values()) / operations, 2),
        "by_type": {name: round(count / operations, 2) for name, count in counts.most_common()},
    }
