"""Fault tests on the real dev server: a worker and the server killed in the middle of an incident.

An activity is caught in the middle deterministically by holding SQLite's write lock on irp's
database: `file_trackers` reads, then waits for the lock before it inserts, and stays started
on its worker until the test releases the lock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import Client, WorkflowHandle

from irp import stack
from irp.intake import deliver, read_source
from irp.inventory import load_inventory
from irp.settings import Settings, load_settings
from models.incident import IncidentStatus, Phase
from tests.builders import CVSS_VECTOR, cve_record, cyclonedx_sbom, write_json
from tests.conftest import REPO, free_port

pytestmark = [pytest.mark.devserver, pytest.mark.timeout(150)]

PRODUCT = "Widget Server"
STREAMS = ["1.x", "2.x"]
WORKER_READY = "worker polling"
WORKER_START_TIMEOUT = 60.0
# The database steps' start-to-close timeout in the workflow (30 s) bounds how late a step
# that died with its worker is retried elsewhere, so waits here allow for it.
INCIDENT_TIMEOUT = 60.0


class DevServer:
    """A `temporal server start-dev` child process on a SQLite file that survives restarts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_path = settings.home / "temporal-server.log"
        self.process: subprocess.Popen | None = None

    async def start(self) -> Client:
        """Start the server and return a client once it accepts requests."""
        command = [*stack.dev_server_command(self.settings), "--headless"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return await stack.wait_for_server(self.settings, self.process)

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Stop the server if it still runs."""
        if self.process is not None:
            stack.stop_dev_server(self.process)


class WorkerProcess:
    """A `python worker.py` child process with its own log file."""

    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "worker.py"], cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def identity(self) -> str:
        """Return the identity the SDK gives this worker by default: pid@host."""
        return f"{self.process.pid}@{socket.gethostname()}"

    async def wait_until_polling(self) -> None:
        """Wait until the worker logs that it polls its task queue."""
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while WORKER_READY not in self.log_path.read_text(errors="replace"):
            assert self.process.poll() is None, f"the worker exited early:\n{self.log_path.read_text()}"
            assert time.monotonic() < deadline, f"the worker did not start:\n{self.log_path.read_text()}"
            await asyncio.sleep(0.2)

    def kill(self) -> None:
        """Kill the worker with SIGKILL, leaving its activities unfinished."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Stop the worker if it still runs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Stack:
    """A dev server, its workers and the settings every process shares."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = home
        self.database = home / "irp.db"
        self.environment = {
            "IRP_HOME": str(home),
            "IRP_DATABASE_URL": f"sqlite:///{self.database}",
            "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "TEMPORAL_NAMESPACE": "default",
            "IRP_UI_PORT": str(free_port()),
            "IRP_TASK_QUEUE": "irp-faults",
        }
        for name, value in self.environment.items():
            monkeypatch.setenv(name, value)
        self.settings = load_settings()
        self.server = DevServer(self.settings)
        self.workers: list[WorkerProcess] = []

    def start_worker(self) -> WorkerProcess:
        """Start one more worker process on the shared task queue."""
        log_path = self.home / f"worker-{len(self.workers) + 1}.log"
        worker = WorkerProcess({**_inherited_environment(), **self.environment}, log_path)
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        """Return the workers' and the server's logs, for failure messages."""
        paths = [worker.log_path for worker in self.workers] + [self.server.log_path]
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}" for path in paths if path.exists())

    def stop(self) -> None:
        """Stop every worker, then the server."""
        for worker in self.workers:
            worker.stop()
        self.server.stop()


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    """Start a dev server on a fresh IRP_HOME with an inventory of two affected streams."""
    home = tmp_path / "home"
    home.mkdir()
    created = Stack(home, monkeypatch)
    for stream in STREAMS:
        sbom = write_json(tmp_path / f"{stream}.cdx.json", cyclonedx_sbom([("gizmo", "1.9.0")]))
        load_inventory(created.settings.database_url, sbom, product=PRODUCT, stream=stream)
    try:
        yield created
    finally:
        created.stop()


def _inherited_environment() -> dict[str, str]:
    """Return this process's environment without Temporal client settings that would point elsewhere."""
    return {name: value for name, value in os.environ.items() if not name.startswith("TEMPORAL_")}


@contextmanager
def database_writes_blocked(database: Path) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock on the database so that every writer waits; readers go on (WAL)."""
    connection = sqlite3.connect(database, isolation_level=None, timeout=30)
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    finally:
        connection.execute("ROLLBACK")
        connection.close()


async def start_incidents(client: Client, settings: Settings, folder: Path, count: int) -> list[WorkflowHandle]:
    """Deliver one report per incident and wait until each is matched against the inventory."""
    handles = []
    for number in range(count):
        incident_id = f"CVE-2026-4{number:04d}"
        path = write_json(folder / f"{incident_id}.json", cve_record(incident_id, package="gizmo", fixed="2.0.0"))
        await deliver(client, settings, read_source(path, datetime.now(UTC)))
        handles.append(client.get_workflow_handle(incident_id, result_type=IncidentStatus))
    for handle in handles:
        await wait_for_status(handle, lambda status: status.matched, "automatic triage")
    return handles


async def wait_for_status(handle: WorkflowHandle, predicate, condition: str, timeout: float = INCIDENT_TIMEOUT) -> IncidentStatus:
    """Query an incident's status until the predicate holds."""
    deadline = time.monotonic() + timeout
    while True:
        status = await handle.query("status", result_type=IncidentStatus)
        if predicate(status):
            return status
        assert time.monotonic() < deadline, f"{handle.id}: {condition} never happened; status: {status.model_dump_json(indent=1)}"
        await asyncio.sleep(0.2)


async def started_tracker_filings(handles: list[WorkflowHandle]) -> dict[str, str]:
    """Return, per incident, the identity of the worker running its started `file_trackers` step."""
    started = {}
    for handle in handles:
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            if pending.activity_type.name == "file_trackers" and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED:
                started[handle.id] = pending.last_worker_identity
    return started


async def wait_for_tracker_filings(handles: list[WorkflowHandle], running: Stack) -> dict[str, str]:
    """Wait until every incident's `file_trackers` step has started on some worker."""
    deadline = time.monotonic() + INCIDENT_TIMEOUT
    while True:
        started = await started_tracker_filings(handles)
        if len(started) == len(handles):
            return started
        assert time.monotonic() < deadline, f"tracker filing started only for {started}\n{running.logs()}"
        await asyncio.sleep(0.1)


async def decide_rest(handle: WorkflowHandle) -> None:
    """Send the assessment and one engineering decision per tracker once the trackers are filed."""
    await handle.signal("assess", {"by": "bob", "reason": "remote, no auth", "impact": "Important", "cvss_vector": CVSS_VECTOR})
    status = await wait_for_status(handle, lambda s: len(s.trackers) == len(STREAMS), "tracker filing")
    for tracker in status.trackers:
        await handle.signal(
            "tracker_decision",
            {"by": "carol", "reason": "patched", "tracker": tracker.id, "decision": "fixed", "fixed_in": "2.0.1"},
        )


def tracker_rows(database: Path) -> list[tuple[str, str, str, str | None]]:
    """Return (tracker id, incident, stream, decision) of every row in the tracker table."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT id, incident_id, stream, decision FROM tracker ORDER BY id").fetchall()
    return [(f"TRK-{row_id}", incident, stream, decision) for row_id, incident, stream, decision in rows]


async def file_tracker_attempts(handle: WorkflowHandle) -> list[tuple[int, str]]:
    """Return (attempt, worker identity) of each started `file_trackers` step in the history."""
    scheduled: set[int] = set()
    attempts = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == "file_trackers":
                scheduled.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes = event.activity_task_started_event_attributes
            if attributes.scheduled_event_id in scheduled:
                attempts.append((attributes.attempt, attributes.identity))
    return attempts


async def test_worker_killed_mid_activity(running: Stack, tmp_path: Path):
    client = await running.server.start()
    first, second = running.start_worker(), running.start_worker()
    await asyncio.gather(first.wait_until_polling(), second.wait_until_polling())
    handles = await start_incidents(client, running.settings, tmp_path, count=4)

    with database_writes_blocked(running.database):
        for handle in handles:
            await handle.signal("triage", {"by": "alice", "reason": "gizmo 1.9.0 ships in both", "decision": "affected"})
        started = await wait_for_tracker_filings(handles, running)
        victim = first if first.identity in started.values() else second
        survivor = second if victim is first else first
        assert victim.identity in started.values()
        victim.kill()

    await asyncio.gather(*(decide_rest(handle) for handle in handles))
    results = await asyncio.wait_for(asyncio.gather(*(handle.result() for handle in handles)), INCIDENT_TIMEOUT)

    for result in results:
        assert result.phase == Phase.closed, running.logs()
        assert result.resolution == "fixed"
        assert [d.signal for d in result.decisions] == ["triage", "assess", "tracker_decision", "tracker_decision"]
    rows = tracker_rows(running.database)
    expected = {(handle.id, stream) for handle in handles for stream in STREAMS}
    assert sorted((incident, stream) for _, incident, stream, _ in rows) == sorted(expected)
    assert {tracker.id for result in results for tracker in result.trackers} == {row[0] for row in rows}
    assert {decision for *_, decision in rows} == {"fixed"}
    for handle in handles:
        if started[handle.id] == victim.identity:
            assert await file_tracker_attempts(handle) == [(2, survivor.identity)]
    assert survivor.process.poll() is None


async def test_server_killed_mid_incident(running: Stack, tmp_path: Path):
    client = await running.server.start()
    worker = running.start_worker()
    await worker.wait_until_polling()
    [handle] = await start_incidents(client, running.settings, tmp_path, count=1)

    with database_writes_blocked(running.database):
        await handle.signal("triage", {"by": "alice", "reason": "gizmo 1.9.0 ships in both", "decision": "affected"})
        await wait_for_tracker_filings([handle], running)
        running.server.kill()
        client = await running.server.start()

    handle = client.get_workflow_handle(handle.id, result_type=IncidentStatus)
    await decide_rest(handle)
    result = await asyncio.wait_for(handle.result(), INCIDENT_TIMEOUT)

    assert result.phase == Phase.closed, running.logs()
    assert result.resolution == "fixed"
    assert [d.signal for d in result.decisions] == ["triage", "assess", "tracker_decision", "tracker_decision"]
    assert sorted((incident, stream) for _, incident, stream, _ in tracker_rows(running.database)) == [
        (handle.id, stream) for stream in STREAMS
    ]
    assert await file_tracker_attempts(handle) == [(1, worker.identity)]
    assert worker.process.poll() is None
