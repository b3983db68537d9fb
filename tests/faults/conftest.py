"""The fault suite's stack, shared by its tests and made whole again before each one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _pytest.terminal import TerminalReporter

from tests.faults import recovery
from tests.faults.stack import FaultStack, fault_stack


@pytest.fixture(scope="session")
def faults_stack() -> Iterator[FaultStack]:
    with fault_stack() as started:
        yield started


@pytest.fixture
def stack(faults_stack: FaultStack) -> FaultStack:
    """One Temporal, Redis, worker and API, running, whatever the previous fault left."""
    faults_stack.ensure_healthy()
    return faults_stack


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if not recovery.ROWS:
        return
    path = recovery.write_table()
    terminalreporter.section("recovery times")
    terminalreporter.write_line(recovery.table())
    terminalreporter.write_line(f"(also in {path})")
