"""Run the chat worker: `python -m workers`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client

from foundations.settings import get_settings
from workers.composition import chat_worker, open_redis

logger = logging.getLogger("workers")


async def main() -> None:
    settings = get_settings()
    redis_client = open_redis(settings)
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    worker = chat_worker(client, redis_client, settings)
    logger.info("worker polling task queue %s", settings.task_queue)
    try:
        await worker.run()
    finally:
        await redis_client.aclose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
