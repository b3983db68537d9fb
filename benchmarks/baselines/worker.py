"""The baselines' worker, a process of its own like the chat worker: `python -m benchmarks.baselines.worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.baselines.irreducible import IrreducibleSteps, IrreducibleTurnWorkflow
from benchmarks.baselines.workflows import (
    BASELINE_TASK_QUEUE,
    NoOpUpdateWorkflow,
    StreamRelayWorkflow,
    TwoLocalActivitiesWorkflow,
    noop_step,
)
from foundations.clients import communication_foundation, open_redis
from foundations.settings import get_settings


async def main() -> None:
    settings = get_settings()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    # The irreducible turn writes to the chat's Redis through the chat's own scripts.
    steps = IrreducibleSteps(communication_foundation(open_redis(settings), settings))
    # Worker options as the chat worker's, so the two differ only in what the workflows do.
    worker = Worker(
        client,
        task_queue=BASELINE_TASK_QUEUE,
        workflows=[
            NoOpUpdateWorkflow,
            TwoLocalActivitiesWorkflow,
            StreamRelayWorkflow,
            IrreducibleTurnWorkflow,
        ],
        activities=[noop_step, steps.admit, steps.reply],
        max_concurrent_activities=200,
    )
    await worker.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
