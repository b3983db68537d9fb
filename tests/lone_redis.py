"""A Redis server of its own for tests that need Redis but not the whole stack."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.services import Stack, free_port, start_redis


@contextmanager
def lone_redis() -> Iterator[str]:
    """Start a Redis server on a free port; yields its URL and stops it on exit."""
    root = Path(tempfile.mkdtemp(prefix="lone-redis-"))
    processes = Stack()
    try:
        yield start_redis(processes, root / "data", free_port(), root)
    finally:
        processes.stop()
