"""`make run`: the whole platform on this machine, stopped cleanly with Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from devstack import pidfile
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
    left = pidfile.leftovers(args.data_dir)
    if left:
        running = ", ".join(f"{each.name} (pid {each.pid})" for each in left)
        pids = " ".join(str(each.pid) for each in left)
        print(
            f"Servers from an earlier `make run` are still running: {running}.\n"
            f"Stop them with `kill {pids}`, then run `make run` again.",
            file=sys.stderr,
        )
        return 1
    stack = Stack()
    # A closed terminal (SIGHUP) or a TERM stops the servers like Ctrl-C does. Were the
    # launcher killed outright, the servers get SIGTERM from the kernel (devstack.services).
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: sys.exit(0))
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
        pidfile.record(args.data_dir, stack)
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
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        _say("Stopping ...")
        stack.stop()
        pidfile.forget(args.data_dir)
        _say("Stopped.")


def _say(text: str) -> None:
    # After SIGHUP the terminal is gone: writing to it must not cut the shutdown short.
    with contextlib.suppress(OSError):
        print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
