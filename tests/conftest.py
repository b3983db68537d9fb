"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from devstack.services import SEARCH_ATTRIBUTES, test_server_binary
from foundations.payload_converter import DATA_CONVERTER
from tests.lone_redis import lone_redis
from tests.sse_server import server  # noqa: F401  (a fixture for every test layer)
from tests.stack import RunningStack, running_stack

_INDEXED = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


async def start_workflow_env() -> WorkflowEnvironment:
    """Temporal's time-skipping test server, with the platform's search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_binary(), data_converter=DATA_CONVERTER
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={name: _INDEXED[kind] for name, kind in SEARCH_ATTRIBUTES.items()},
        )
    )
    return env


@pytest.fixture(scope="session")
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_workflow_env()
    async with env:
        yield env


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """The real stack, started once for the integration and browser tests."""
    with running_stack() as started:
        yield started


@pytest.fixture(scope="module")
def lone_redis_url() -> Iterator[str]:
    """A Redis server of the test module's own, for tests that need no other server."""
    with lone_redis() as url:
        yield url


@pytest.fixture
async def redis_client(stack: RunningStack) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(stack.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def temporal_client(stack: RunningStack) -> Client:
    return await Client.connect(stack.temporal_address)
