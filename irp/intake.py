"""Intake: turn report files into incidents, one per flaw."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from irp.settings import Settings
from irp.sources.cve5 import InvalidReport, parse_cve5
from models.incident import IncidentInput, IntakeSource
from workflows.incident import IncidentWorkflow

MAX_REPORT_BYTES = 5 * 1024 * 1024
REPORT_SUFFIXES = {".json"}


class IntakeResult(BaseModel):
    """The outcome of intake for one file, as `irp intake` prints it."""

    file: str
    incident: str | None = None
    action: str
    """`started`, `merged` or `rejected`."""
    error: str | None = None


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield the files named, and the report files inside named folders."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES)
        else:
            yield path


def read_source(path: Path, received_at: datetime) -> IntakeSource:
    """Read and parse one report file, raising `InvalidReport` on bad input."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InvalidReport(str(path), f"cannot read the file: {error.strerror}") from None
    if size > MAX_REPORT_BYTES:
        raise InvalidReport(str(path), f"the file is {size} bytes; reports above {MAX_REPORT_BYTES} bytes are rejected")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidReport(str(path), f"cannot read the file: {error.strerror}") from None

    report = parse_cve5(data, str(path))
    return IntakeSource(
        file=path.name,
        digest=hashlib.sha256(data).hexdigest(),
        received_at=received_at,
        report=report,
        raw=data.decode("utf-8"),
    )


async def deliver(client: Client, settings: Settings, source: IntakeSource) -> str:
    """Start the incident with this report, or add the report to the running one."""
    incident_id = source.report.id
    handle = await client.start_workflow(
        IncidentWorkflow.run,
        IncidentInput(incident_id=incident_id),
        id=incident_id,
        task_queue=settings.task_queue,
        start_signal="add_source",
        start_signal_args=[source],
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"Incident {incident_id}",
    )
    # The signal-with-start response tells whether this call started the workflow.
    # NOTE: the SDK keeps that response private, and the time-skipping test server
    # never sets `started`, so there every delivery reads as merged.
    response = getattr(handle, "_start_workflow_response", None)
    return "started" if getattr(response, "started", False) else "merged"


async def intake_file(client: Client, settings: Settings, path: Path) -> IntakeResult:
    """Take one file in; a bad file is logged as rejected instead of raising."""
    try:
        source = read_source(path, datetime.now(UTC))
        action = await deliver(client, settings, source)
    except InvalidReport as error:
        return reject_input(settings, path, error.problem)
    except WorkflowAlreadyStartedError:
        problem = "its incident is already closed; reopen it by hand or report it under a new id"
        return reject_input(settings, path, problem, incident=source.report.id)
    except RPCError as error:
        return reject_input(settings, path, f"Temporal refused the report: {error.message}")
    return IntakeResult(file=str(path), incident=source.report.id, action=action)


def reject_input(settings: Settings, path: Path, problem: str, incident: str | None = None) -> IntakeResult:
    """Append a rejected input to the rejected-input log and return its result."""
    entry = {"at": datetime.now(UTC).isoformat(), "file": str(path), "incident": incident, "error": problem}
    settings.home.mkdir(parents=True, exist_ok=True)
    with settings.rejected_log.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    return IntakeResult(file=str(path), incident=incident, action="rejected", error=problem)
