"""Feeds: the pure helpers, the feed workflow on the time-skipping server, a schedule on the dev server."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from irp.feed import InvalidFeed, format_interval, move_aside, parse_interval, pending_files, validate_feed_name
from irp.settings import Settings
from models.incident import IncidentStatus
from models.feed import FeedInput, FeedLocation, FeedRunResult, LocationKind
from tests.builders import cve_record, write_json
from tests.test_end_to_end import Stack
from worker import build_worker
from workflows.feed import FeedWorkflow

BROKEN_RECORD = '{"dataType": "CVE_RECORD", "cveMetadata": '


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("5", 300), ("1h30m", 5400), ("2d", 172800), (" 2S ", 2)],
)
def test_parse_interval_valid(text: str, seconds: int):
    assert parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0s", "5 minutes", "-3m", "1.5h", "m"])
def test_parse_interval_invalid(text: str):
    with pytest.raises(InvalidFeed, match="interval"):
        parse_interval(text)


def test_format_interval_round_trips():
    for seconds in (1, 59, 90, 3600, 5400, 90061):
        assert parse_interval(format_interval(seconds)).total_seconds() == seconds


@pytest.mark.parametrize("name", ["Inbox", "-x", "a b", "x" * 64, "irp/feed"])
def test_feed_name_invalid(name: str):
    with pytest.raises(InvalidFeed, match="feed name"):
        validate_feed_name(name)


def test_pending_files_skips_unsettled(tmp_path: Path):
    now = time.time()
    for name in ("old.json", ".hidden.json", "copying.json.part", "fresh.json"):
        (tmp_path / name).write_text("{}")
    os.utime(tmp_path / "old.json", (now - 60, now - 60))
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "done.json").write_text("{}")

    location = FeedLocation(kind=LocationKind.folder, path=str(tmp_path))
    assert [path.name for path in pending_files(location, settle_seconds=5, now=now)] == ["old.json"]
    assert "fresh.json" in [path.name for path in pending_files(location, settle_seconds=0, now=now + 1)]


def test_pending_files_reads_maildir_new_and_cur(tmp_path: Path):
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    (tmp_path / "new" / "1.host").write_text("From: a@example.org\n\nbody\n")
    (tmp_path / "cur" / "2.host:2,S").write_text("From: b@example.org\n\nbody\n")
    (tmp_path / "tmp" / "3.host").write_text("still being delivered")

    location = FeedLocation(kind=LocationKind.maildir, path=str(tmp_path))
    names = sorted(path.name for path in pending_files(location, settle_seconds=0, now=time.time() + 1))
    assert names == ["1.host", "2.host:2,S"]


def test_move_aside_keeps_both_names(tmp_path: Path):
    first = tmp_path / "report.json"
    first.write_text("1")
    moved_first = move_aside(first, tmp_path / "processed")
    second = tmp_path / "report.json"
    second.write_text("2")
    moved_second = move_aside(second, tmp_path / "processed")

    assert moved_first.name == "report.json"
    assert moved_second.name == "report-2.json"
    assert moved_second.read_text() == "2"


@pytest.fixture
async def incidents_cleanup(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[list[str]]:
    """Terminate the incidents a test started, so they do not hold the shared test server."""
    started: list[str] = []
    yield started
    for incident_id in started:
        try:
            await time_skipping_env.client.get_workflow_handle(incident_id).terminate("test ended")
        except RPCError:
            pass


async def wait_for_source(handle: WorkflowHandle) -> IncidentStatus:
    """Query an incident until it has recorded a report."""
    for _ in range(100):
        status = await handle.query("status", result_type=IncidentStatus)
        if status.sources:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the incident recorded no report: {status.model_dump_json(indent=1)}")


async def test_feed_workflow_takes_folder_in(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path, incidents_cleanup: list[str]
):
    client = time_skipping_env.client
    drop = tmp_path / "drop"
    drop.mkdir()
    incident_id = f"CVE-2026-{uuid.uuid4().int % 90000 + 10000}"
    write_json(drop / "record.json", cve_record(incident_id))
    (drop / "broken.json").write_text(BROKEN_RECORD)
    incidents_cleanup.append(incident_id)

    feed = FeedInput(
        name="drop",
        locations=[
            FeedLocation(kind=LocationKind.folder, path=str(tmp_path / "missing")),
            FeedLocation(kind=LocationKind.folder, path=str(drop)),
        ],
        every_seconds=60,
        settle_seconds=0,
    )
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        result = await client.execute_workflow(
            FeedWorkflow.run, feed, id=f"feed-{uuid.uuid4()}", task_queue=settings.task_queue, result_type=FeedRunResult
        )
        again = await client.execute_workflow(
            FeedWorkflow.run, feed, id=f"feed-{uuid.uuid4()}", task_queue=settings.task_queue, result_type=FeedRunResult
        )
        status = await wait_for_source(client.get_workflow_handle(incident_id))

    missing, taken = result.locations
    assert "does not exist" in (missing.error or "")
    assert taken.started + taken.merged == 1
    assert taken.failed == 1
    assert result.failed == 2
    assert taken.failures[0].file == str(drop / "broken.json")
    assert "not valid JSON" in taken.failures[0].error

    assert status.sources[0].file == "record.json"
    assert (drop / "processed" / "record.json").is_file()
    assert (drop / "failed" / "broken.json").read_text() == BROKEN_RECORD
    assert "not valid JSON" in (drop / "failed" / "broken.json.error.txt").read_text()
    assert not (drop / "record.json").exists()
    assert "broken.json" in settings.rejected_log.read_text()

    rerun = again.locations[1]
    assert (rerun.started, rerun.merged, rerun.failed) == (0, 0, 0)


INTERVAL_SECONDS = 2


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path / "home")
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def list_feeds(stack: Stack) -> list[dict]:
    """Return `irp feed list --json`."""
    listed = stack.irp("feed", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll a predicate until it holds, failing with a description after the timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.2)


@pytest.mark.devserver
@pytest.mark.timeout(300)
def test_feed_schedule_on_dev_server(stack: Stack, tmp_path: Path):
    drop = tmp_path / "drop"
    drop.mkdir()
    added = stack.irp("feed", "add", "inbox", "--folder", str(drop), "--every", f"{INTERVAL_SECONDS}s")
    assert added.returncode == 0, added.stderr

    incident_id = "CVE-2026-30101"
    write_json(drop / "record.json", cve_record(incident_id))
    (drop / "broken.json").write_text(BROKEN_RECORD)
    # Settling (2 s) plus one interval, with room for a slow machine.
    wait_until(lambda: (drop / "processed" / "record.json").exists(), 4 * INTERVAL_SECONDS + 10, "record.json not taken in")
    assert stack.show(incident_id)["id"] == incident_id
    wait_until(lambda: (drop / "failed" / "broken.json.error.txt").exists(), 10, "broken.json not moved to failed/")
    assert "not valid JSON" in (drop / "failed" / "broken.json.error.txt").read_text()

    [feed] = list_feeds(stack)
    assert feed["every"] == f"{INTERVAL_SECONDS}s"
    assert feed["locations"] == [{"kind": "folder", "path": str(drop)}]
    completed = [run for run in feed["recent_runs"] if run["status"] == "completed"]
    assert sum(run["started"] + run["merged"] for run in completed) == 1
    assert sum(run["failed"] for run in completed) == 1

    paused = stack.irp("feed", "pause", "inbox")
    assert paused.returncode == 0, paused.stderr
    time.sleep(INTERVAL_SECONDS)  # a run started before the pause may still be going
    write_json(drop / "later.json", cve_record("CVE-2026-30102"))
    time.sleep(3 * INTERVAL_SECONDS + 2)
    assert (drop / "later.json").exists()

    [feed] = list_feeds(stack)
    assert feed["paused"] is True

    resumed = stack.irp("feed", "resume", "inbox")
    assert resumed.returncode == 0, resumed.stderr
    wait_until(lambda: not (drop / "later.json").exists(), 3 * INTERVAL_SECONDS + 10, "later.json not taken in after resume")
    assert stack.stop() == 0
