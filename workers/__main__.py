"""Run the chat worker: `python -m workers`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client

from foundations.metrics import WORKER_METRICS, export, serve_metrics, temporal_runtime
from foundations.settings import get_settings
from foundations.tracing import configure_logging, configure_tracing, temporal_plugins
from workers.composition import chat_worker, open_redis

logger = logging.getLogger("workers")


async def main() -> None:
    settings = get_settings()
    configure_tracing(settings, "chat-worker")
    export(WORKER_METRICS)
    serve_metrics(settings.metrics_host, settings.worker_metrics_port)
    redis_client = open_redis(settings)
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        runtime=temporal_runtime(settings.metrics_host, settings.temporal_metrics_port),
        plugins=temporal_plugins(),
    )
    worker = chat_worker(client, redis_client, settings)
    logger.info("worker polling task queue %s", settings.task_queue)
    try:
        await worker.run()
    finally:
        await redis_client.aclose()


if __name__ == "__main__":
    configure_logging()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
