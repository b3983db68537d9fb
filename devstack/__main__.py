"""`make run`: the whole platform on this machine, stopped cleanly with Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from devstack.services import (
    ROOT,
    Stack,
    port_open,
    start_api,
    start_redis,
    start_temporal,
    start_worker,
)
from foundations.settings import get_settings


def main() -> int:
    parser = argparse.ArgumentParser(description="Run Temporal, Redis, the worker and the API.")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".data")
    parser.add_argument("--temporal-port", type=int, default=7233)
    parser.add_argument("--ui-port", type=int, default=8233)
    args = parser.parse_args()

    settings = get_settings()
    logs = args.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stack = Stack()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        temporal_address = settings.temporal_address
        host, _, port = temporal_address.rpartition(":")
        if port_open(host or "127.0.0.1", int(port)):
            print(f"Using the Temporal server already at {temporal_address}")
        else:
            temporal_address = start_temporal(
                stack, args.data_dir / "temporal", args.temporal_port, args.ui_port, logs
            )
        redis_url = settings.redis_url
        parsed = urlparse(redis_url)
        if port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
            print(f"Using the Redis server already at {redis_url}")
        else:
            redis_url = start_redis(stack, args.data_dir / "redis", parsed.port or 6379, logs)
        env = {"TEMPORAL_ADDRESS": temporal_address, "REDIS_URL": redis_url}
        start_worker(stack, env, logs)
        start_api(stack, env, settings.api_port, logs)
        print()
        print(f"  Chat:        http://{settings.api_host}:{settings.api_port}/")
        print(f"  Temporal UI: http://127.0.0.1:{args.ui_port}/namespaces/default/workflows")
        print(f"  Metrics:     http://{settings.api_host}:{settings.api_port}/metrics (API)")
        worker_metrics = {
            "worker": settings.worker_metrics_port,
            "Temporal SDK": settings.temporal_metrics_port,
        }
        for source, metrics_port in worker_metrics.items():
            if metrics_port:
                print(
                    f"               http://{settings.metrics_host}:{metrics_port}/metrics ({source})"
                )
        print(f"  Logs:        {logs}")
        print("  Ctrl-C stops everything.")
        while all(process.poll() is None for _, process in stack.processes):
            time.sleep(0.5)
        stopped = [name for name, process in stack.processes if process.poll() is not None]
        print(f"{', '.join(stopped)} stopped unexpectedly; see {logs}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C or TERM must not cut the shutdown short and orphan the servers.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Stopping ...")
        stack.stop()
        print("Stopped.")


if __name__ == "__main__":
    sys.exit(main())
