"""Run the chat worker: `python -m workers`."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from foundations.clients import open_redis, temporal_data_converter
from foundations.metrics import WORKER_METRICS, export, serve_metrics, temporal_runtime
from foundations.payload_keys import open_payload_keys
from foundations.settings import get_settings
from foundations.tracing import (
    configure_logging,
    configure_tracing,
    shutdown_tracing,
    temporal_plugins,
)
from workers.composition import chat_worker
from workflows.session_payloads import is_session_workflow_id

logger = logging.getLogger("workers")


async def main() -> None:
    settings = get_settings()
    configure_tracing(settings, "chat-worker")
    export(WORKER_METRICS)
    serve_metrics(settings.metrics_host, settings.worker_metrics_port)
    redis_client = open_redis(settings)
    # The codec reads data keys from Redis. The client imports some modules on its first
    # command: make it before any workflow runs, or the workflow sandbox warns about imports
    # after workflows loaded (and it would fail the worker early if Redis is unreachable).
    await redis_client.ping()
    payload_keys = open_payload_keys(settings, redis_client)
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        runtime=temporal_runtime(settings.metrics_host, settings.temporal_metrics_port),
        plugins=temporal_plugins(),
        data_converter=temporal_data_converter(settings, payload_keys, is_session_workflow_id),
    )
    worker = chat_worker(client, redis_client, settings, payload_keys=payload_keys)
    logger.info("worker polling task queue %s", settings.task_queue)
    try:
        await run_until_signalled(worker, settings.worker_graceful_shutdown_seconds)
    finally:
        await redis_client.aclose()


async def run_until_signalled(worker: Worker, grace_seconds: float) -> None:
    """Run `worker` until SIGTERM or SIGINT, then shut it down gracefully.

    Deployments send SIGTERM: dying at once would leave every reply in flight to wait out its
    heartbeat timeout and restart from scratch. Shutting down stops polling and lets running
    activities finish within the worker's graceful shutdown timeout.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    running = asyncio.create_task(worker.run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not running.done():
        logger.info("stopping: no new tasks; running activities get up to %.0f s", grace_seconds)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _stop_now)
        await worker.shutdown()
    await running
    logger.info("worker stopped")


def _stop_now() -> None:
    """A second signal: the operator does not want to wait; the replies restart elsewhere."""
    logger.warning("stopping at once: running activities are abandoned")
    os._exit(1)


if __name__ == "__main__":
    configure_logging()
    asyncio.run(main())
    # Everything is closed; leave without interpreter finalization. The Temporal runtime's
    # native threads can still call into Python while it finalizes, which aborts the process
    # (SIGABRT, "PyGILState_Release ... finalizing") and turns a clean drain into a crash exit
    # that supervisors report and restart.
    shutdown_tracing()
    logging.shutdown()
    os._exit(0)
