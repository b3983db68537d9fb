"""What the metrics count, on the code paths that record them."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import pytest
from prometheus_client.registry import Collector
from redis.exceptions import ConnectionError
from temporalio.testing import ActivityEnvironment

from devstack.services import free_port
from foundations import metrics


@dataclass
class Reply:
    cancelled: bool = False


def sample(metric: Collector, name: str, **labels: str) -> float:
    """A metric's current sample `name` with `labels`, as a scrape would read it."""
    for family in metric.collect():
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def replies(outcome: str) -> float:
    return sample(metrics.REPLIES, "chat_replies_total", outcome=outcome)


def attempt_env(attempt: int = 1) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    return env


@metrics.counts_reply_attempts
async def answer(reply: Reply) -> Reply:
    return reply


@metrics.counts_reply_attempts
async def break_down() -> Reply:
    raise RuntimeError("the model went away")


async def test_reply_attempts_are_counted_by_how_they_end() -> None:
    before = {o: replies(o) for o in ("completed", "cancelled", "failed", "restarted")}
    await attempt_env().run(answer, Reply())
    await attempt_env().run(answer, Reply(cancelled=True))
    with pytest.raises(RuntimeError):
        await attempt_env().run(break_down)
    await attempt_env(attempt=2).run(answer, Reply())
    after = {o: replies(o) - before[o] for o in before}
    assert after == {"completed": 2, "cancelled": 1, "failed": 1, "restarted": 1}


async def test_a_command_to_an_unreachable_redis_counts_as_a_redis_error() -> None:
    client = metrics.CountingRedis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    before = sample(metrics.REDIS_ERRORS, "chat_redis_errors_total")
    with pytest.raises(ConnectionError):
        await client.get("key")
    async with client.pipeline() as pipe:
        pipe.get("key")
        with pytest.raises(ConnectionError):
            await pipe.execute()
    await client.aclose()
    assert sample(metrics.REDIS_ERRORS, "chat_redis_errors_total") - before == 2


def test_lag_is_measured_from_the_stream_id_and_never_negative() -> None:
    two_seconds_ago = f"{int((time.time() - 2) * 1000)}-0"
    in_the_future = f"{int((time.time() + 60) * 1000)}-3"
    before = sample(metrics.RELAY_LAG, "chat_relay_lag_seconds_sum")
    metrics.event_relayed(two_seconds_ago)
    metrics.event_relayed(in_the_future)
    assert 2 <= sample(metrics.RELAY_LAG, "chat_relay_lag_seconds_sum") - before < 10
