"""Intake: turn report files into incidents, one per flaw."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from irp.settings import Settings
from irp.sources import MAX_REPORT_BYTES, parse_report
from irp.sources.cve5 import InvalidReport
from models.incident import IncidentInput, IntakeSource
from models.records import RecordState, Report
from workflows.incident import IncidentWorkflow

REPORT_SUFFIXES = {".json", ".eml"}
"""Suffixes of the files read from a named folder. Each file's format comes from its content."""

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,19}", re.IGNORECASE)
INTERNAL_PREFIX = "IRP-"
MAX_INTAKE_BYTES = min(MAX_REPORT_BYTES, 1024 * 1024)


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
    if size > MAX_INTAKE_BYTES:
        raise InvalidReport(
            str(path),
            f"the file is {size} bytes; reports above {MAX_INTAKE_BYTES} bytes are rejected, because a report "
            "reaches Temporal both raw and parsed and Temporal refuses messages above 4 MB",
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidReport(str(path), f"cannot read the file: {error.strerror}") from None

    report = parse_report(data, str(path))
    return IntakeSource(
        file=path.name,
        digest=hashlib.sha256(data).hexdigest(),
        received_at=received_at,
        report=report,
        # NOTE: an email in another charset than UTF-8 is kept with its undecodable bytes replaced.
        raw=data.decode("utf-8", errors="replace"),
    )


def incident_id_for(report: Report, embargoed: bool = False) -> str:
    """Return the incident id of a report: its CVE id or first CVE alias, else its own id.

    An embargoed report that is not a published CVE record gets an internal id, so no
    identifier from the report reaches Temporal's workflow ids and visibility store.
    """
    if embargoed and report.id.upper().startswith(INTERNAL_PREFIX):
        return report.id.upper()
    if embargoed and not (report.format == "cve5" and report.state == RecordState.published):
        return INTERNAL_PREFIX + hashlib.sha256(report.id.encode("utf-8")).hexdigest()[:12].upper()
    # A withdrawn record (such as a GHSA published twice) withdraws only its own id,
    # so it must not close the incident of the CVE it aliases.
    if report.withdrawn_at is not None:
        return report.id
    for identifier in [report.id, *report.aliases]:
        if CVE_ID.fullmatch(identifier):
            return identifier.upper()
    return report.id


async def deliver(client: Client, settings: Settings, source: IntakeSource) -> str:
    """Start the incident with this report, or add the report to the running one."""
    incident_id = incident_id_for(source.report, source.embargo_until is not None)
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
    # The signal-with-start response states whether this call started the workflow.
    # NOTE: the SDK keeps that response private, and the time-skipping test server
    # never sets `started`, so there every delivery reads as merged.
    response = getattr(handle, "_start_workflow_response", None)
    return "started" if getattr(response, "started", False) else "merged"


async def intake_file(
    client: Client, settings: Settings, path: Path, embargo_until: datetime | None = None
) -> IntakeResult:
    """Take one file in, embargoed until an instant if given; a bad file is logged as rejected instead of raising."""
    try:
        source = read_source(path, datetime.now(UTC))
        source.embargo_until = embargo_until
        action = await deliver(client, settings, source)
    except InvalidReport as error:
        return reject_input(settings, path, error.problem)
    except WorkflowAlreadyStartedError:
        problem = "its incident is already closed; reopen it by hand or report it under a new id"
        return reject_input(settings, path, problem, incident=incident_id_for(source.report, embargo_until is not None))
    except RPCError as error:
        return reject_input(settings, path, f"Temporal refused the report: {error.message}")
    return IntakeResult(file=str(path), incident=incident_id_for(source.report, embargo_until is not None), action=action)


def reject_input(settings: Settings, path: Path, problem: str, incident: str | None = None) -> IntakeResult:
    """Append a rejected input to the rejected-input log and return its result."""
    entry = {"at": datetime.now(UTC).isoformat(), "file": str(path), "incident": incident, "error": problem}
    settings.home.mkdir(parents=True, exist_ok=True)
    with settings.rejected_log.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    return IntakeResult(file=str(path), incident=incident, action="rejected", error=problem)
