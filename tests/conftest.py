"""Shared fixtures: Temporal environments, settings per test, real data paths."""

from __future__ import annotations

import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from irp.settings import Settings
from workflows import search_attributes

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
BIN = Path(sys.executable).parent


@pytest.fixture
def shared_data() -> Path:
    """Return the folder of real public records, or skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public records not found at {SHARED_DATA}")
    return SHARED_DATA


async def start_time_skipping_env() -> WorkflowEnvironment:
    """Start a time-skipping test server with irp's search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    indexed = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value) for key in search_attributes.ALL
    }
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace=env.client.namespace, search_attributes=indexed)
    )
    return env


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Start one time-skipping test server for the session."""
    env = await start_time_skipping_env()
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def clock_env() -> AsyncIterator[WorkflowEnvironment]:
    """Start a time-skipping server for one module that skips time.

    The test server stops its clock while any activity anywhere on it is outstanding,
    so tests that sleep through timers get a server no other module has touched.
    """
    env = await start_time_skipping_env()
    yield env
    await env.shutdown()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return settings with a fresh IRP_HOME, SQLite database and task queue."""
    home = tmp_path / "irp-home"
    home.mkdir()
    return Settings(
        home=home,
        database_url=f"sqlite:///{home / 'irp.db'}",
        temporal_address="unused",
        temporal_namespace="default",
        ui_port=0,
        task_queue=f"irp-test-{uuid.uuid4()}",
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
