"""`irp intake`, `irp list`, `irp show` and `irp decide`: work with incidents."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from pydantic import ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from irp.cli.common import console, errors, fail, print_json, run_with_client
from irp.decisions import describe_errors
from irp.intake import REPORT_SUFFIXES, deliver, expand_paths, incident_id_for, intake_file
from irp.sources.manual import ManualReport, manual_source
from irp.settings import Settings
from models.decisions import DecisionRequest
from models.incident import DecisionRecord, IncidentStatus
from workflows import search_attributes as attributes

WORKER_ANSWER_TIMEOUT = 20.0
"""Seconds to wait for a worker to complete a query or an update."""

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def intake(
    paths: Annotated[list[Path], typer.Argument(help="Report files, or folders to read *.json and *.eml reports from.")],
    embargo_until: Annotated[
        str | None,
        typer.Option(help="Embargo the reports from their first moment until this ISO 8601 instant with a time zone."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start one incident per reported flaw, or add the report to its incident."""
    public_date = _embargo_instant(embargo_until) if embargo_until else None
    _warn_about_skipped_files(paths)

    async def work(client: Client, settings: Settings) -> list[dict]:
        results = []
        for path in expand_paths(paths):
            result = await intake_file(client, settings, path, public_date)
            results.append(result.model_dump())
            if not as_json:
                _print_intake_line(result.model_dump())
        return results

    results = run_with_client(work)
    if as_json:
        print_json(results)
    if not results:
        fail("no report files found in " + ", ".join(str(p) for p in paths))
    if any(result["action"] == "rejected" for result in results):
        raise typer.Exit(1)


def _warn_about_skipped_files(paths: list[Path]) -> None:
    """Name how many files in the given folders intake leaves alone, so none is skipped silently."""
    for folder in (path for path in paths if path.is_dir()):
        skipped = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in REPORT_SUFFIXES]
        if skipped:
            errors.print(
                f"{folder}: skipped {len(skipped)} file(s) that are not .json or .eml reports, e.g. {skipped[0].name}",
                markup=False,
                highlight=False,
            )


def _embargo_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--embargo-until `{text}` is not an ISO 8601 instant such as 2027-01-15T14:00:00+00:00", code=2)
    if instant.tzinfo is None:
        fail(f"--embargo-until `{text}` has no time zone; add one, such as +00:00 or Z", code=2)
    if instant <= datetime.now(UTC):
        fail(f"--embargo-until `{text}` is not in the future", code=2)
    return instant


def _print_intake_line(result: dict) -> None:
    if result["action"] == "rejected":
        console.print(f"{result['file']}: rejected: {result['error']}", markup=False, highlight=False)
    else:
        console.print(f"{result['file']}: {result['action']} {result['incident']}", markup=False, highlight=False)


def new(
    title: Annotated[str, typer.Option(help="One-line title of the flaw.")],
    description: Annotated[str, typer.Option(help="What the flaw is and what it affects.")],
    cve: Annotated[str | None, typer.Option(help="CVE id, if one is assigned.")] = None,
    reporter: Annotated[str | None, typer.Option(help="Who reported it; kept confidential.")] = None,
    reference: Annotated[list[str] | None, typer.Option(help="A reference URL; repeat for more.")] = None,
    embargo_until: Annotated[
        str | None,
        typer.Option(help="Embargo the report from its first moment until this ISO 8601 instant with a time zone."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Open an incident from a manual report; triage then names the affected streams."""
    try:
        fields = ManualReport(title=title, description=description, cve=cve, reporter=reporter, references=reference or [])
    except ValidationError as error:
        fail(f"invalid manual report: {describe_errors(error)}", code=2)
    public_date = _embargo_instant(embargo_until) if embargo_until else None
    source = manual_source(fields, datetime.now(UTC))
    source.embargo_until = public_date

    async def work(client: Client, settings: Settings) -> dict:
        action = await deliver(client, settings, source)
        return {"incident": incident_id_for(source.report, public_date is not None), "action": action}

    result = run_with_client(work)
    if as_json:
        print_json(result)
    else:
        console.print(f"{result['action']} {result['incident']}", markup=False, highlight=False)


def list_incidents(
    query: Annotated[str | None, typer.Option(help="Extra visibility query, e.g. \"IrpPhase = 'triage'\".")] = None,
    as_json: JsonOption = False,
) -> None:
    """List incidents with their phase, impact and products."""

    async def work(client: Client, settings: Settings) -> list[dict]:
        full_query = "WorkflowType = 'Incident'" + (f" AND ({query})" if query else "")
        rows = []
        async for execution in client.list_workflows(full_query):
            found = execution.typed_search_attributes
            rows.append(
                {
                    "id": execution.id,
                    "status": execution.status.name.lower() if execution.status else None,
                    "phase": found.get(attributes.PHASE),
                    "impact": found.get(attributes.IMPACT),
                    "products": found.get(attributes.PRODUCTS) or [],
                    "embargoed": bool(found.get(attributes.EMBARGOED)),
                    "at_risk": bool(found.get(attributes.AT_RISK)),
                    "started": execution.start_time,
                }
            )
        return rows

    rows = run_with_client(work)
    if as_json:
        print_json(rows)
        return
    table = Table("incident", "phase", "impact", "products", "status")
    for row in rows:
        table.add_row(row["id"], row["phase"] or "", row["impact"] or "", ", ".join(row["products"]), row["status"])
    console.print(table)


async def fetch_status(client: Client, incident_id: str) -> IncidentStatus:
    """Return an incident's status: the query while it runs, its result once closed."""
    handle = client.get_workflow_handle(incident_id, result_type=IncidentStatus)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            fail(f"no incident `{incident_id}`")
        raise
    if description.status == WorkflowExecutionStatus.COMPLETED:
        return await handle.result()
    if description.status != WorkflowExecutionStatus.RUNNING:
        fail(f"incident `{incident_id}` is {description.status.name.lower()}; see `temporal workflow show -w {incident_id}`")
    try:
        return await asyncio.wait_for(handle.query("status", result_type=IncidentStatus), timeout=WORKER_ANSWER_TIMEOUT)
    except TimeoutError:
        fail(f"no worker answered within {WORKER_ANSWER_TIMEOUT:.0f} s; start `irp up` or `irp worker`")
    except RPCError as error:
        fail(f"incident `{incident_id}` did not answer: {error.message}")


def show(
    incident_id: Annotated[str, typer.Argument(help="Incident id, such as a CVE id.")],
    as_json: JsonOption = False,
) -> None:
    """Show one incident: phase, affects, trackers, checklist and rejections."""

    async def work(client: Client, settings: Settings) -> IncidentStatus:
        return await fetch_status(client, incident_id)

    status = run_with_client(work)
    if as_json:
        print_json(status.model_dump(mode="json", exclude={"report"}))
        return
    _print_status(status)


def _print_status(status: IncidentStatus) -> None:
    console.print(f"[bold]{status.id}[/bold] {status.title or ''}", highlight=False)
    console.print(f"phase: {status.phase.value}   impact: {status.impact or '-'}   resolution: {status.resolution or '-'}")
    if status.cvss:
        console.print(f"CVSS {status.cvss.version}: {status.cvss.base_score} {status.cvss.vector}", highlight=False)

    affects = Table("product", "stream", "component", "status", "reason", title="Affects")
    for affect in status.affects:
        component = " ".join(part for part in (affect.component, affect.version) if part)
        affects.add_row(affect.product, affect.stream, component, affect.status.value, affect.reason)
    console.print(affects)

    if status.trackers:
        trackers = Table("tracker", "stream", "decision", title="Trackers")
        for tracker in status.trackers:
            trackers.add_row(tracker.id, f"{tracker.product}/{tracker.stream}", tracker.decision or "-")
        console.print(trackers)

    checklist = Table("phase", "item", "done", "detail", title="Checklist")
    for item in status.checklist:
        checklist.add_row(item.phase.value, item.item, "yes" if item.done else "no", item.detail)
    console.print(checklist)

    embargo = status.embargo
    if embargo.embargoed:
        console.print(f"embargoed until {embargo.public_date.isoformat()}", style="yellow", highlight=False)
    elif embargo.lifted_at:
        console.print(f"embargo lifted at {embargo.lifted_at.isoformat()} ({embargo.lifted_because})", highlight=False)

    if status.deadlines:
        deadlines = Table("deadline", "due", "state", "escalation", "rule", title="Deadlines")
        for deadline in status.deadlines:
            deadlines.add_row(
                deadline.name, deadline.due.isoformat(timespec="seconds"), deadline.state.value,
                str(deadline.escalation_level or "-"), deadline.policy,
            )
        console.print(deadlines)

    for rejection in status.rejections:
        console.print(f"rejected {rejection.signal}: {rejection.reason}", style="red", markup=False, highlight=False)
    for path in status.outputs:
        console.print(f"output: {path}", markup=False, highlight=False)


def decide(
    incident_id: Annotated[str, typer.Argument(help="Incident id, such as a CVE id.")],
    signal: Annotated[str, typer.Argument(help="Decision: triage, approve_dismissal, assess, tracker_decision, embargo, major_incident, approve_statement, hold, resume, assign, comment, close.")],
    by: Annotated[str, typer.Option(help="The analyst who decides.")],
    reason: Annotated[str | None, typer.Option(help="Why; required except for comments.")] = None,
    input_json: Annotated[str | None, typer.Option("--input", help="The other payload fields as one JSON object.")] = None,
    decision: Annotated[str | None, typer.Option(help="`decision` field (triage, tracker_decision).")] = None,
    impact: Annotated[str | None, typer.Option(help="`impact` field: Critical, Important, Moderate or Low.")] = None,
    cvss: Annotated[str | None, typer.Option(help="`cvss_vector` field, e.g. CVSS:3.1/AV:N/...")] = None,
    tracker: Annotated[str | None, typer.Option(help="`tracker` field: tracker id or stream.")] = None,
    fixed_in: Annotated[str | None, typer.Option(help="`fixed_in` field: the release with the fix.")] = None,
    target_date: Annotated[str | None, typer.Option(help="`target_date` field: YYYY-MM-DD.")] = None,
    justification: Annotated[str | None, typer.Option(help="`justification` field.")] = None,
    owner: Annotated[str | None, typer.Option(help="`owner` field (assign).")] = None,
    text: Annotated[str | None, typer.Option(help="`text` field (comment).")] = None,
    resolution: Annotated[str | None, typer.Option(help="`resolution` field (close).")] = None,
    action: Annotated[str | None, typer.Option(help="`action` field (embargo): set, move, lift_now, leaked.")] = None,
    public_date: Annotated[
        str | None, typer.Option(help="`public_date` field (embargo): ISO 8601 instant with a time zone.")
    ] = None,
) -> None:
    """Take a decision at once; a rejected decision prints why and exits 1."""
    payload = _decision_payload(input_json)
    flags = {
        "by": by, "reason": reason, "decision": decision, "impact": impact, "cvss_vector": cvss,
        "tracker": tracker, "fixed_in": fixed_in, "target_date": target_date,
        "justification": justification, "owner": owner, "text": text, "resolution": resolution,
        "action": action, "public_date": public_date,
    }
    given = {field: value for field, value in flags.items() if value is not None}
    conflicts = [field for field, value in given.items() if field in payload and payload[field] != value]
    if conflicts:
        fail(f"--input and the options disagree on {', '.join(conflicts)}; give each field once", code=2)
    payload.update(given)

    async def work(client: Client, settings: Settings) -> DecisionRecord:
        handle = client.get_workflow_handle(incident_id)
        request = DecisionRequest(signal=signal, input=payload)
        # The same decision gets the same update id, so sending it again after a timeout
        # cannot take it twice.
        update_id = "decide-" + hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:32]
        try:
            return await asyncio.wait_for(
                handle.execute_update("decide", request, id=update_id, result_type=DecisionRecord),
                timeout=WORKER_ANSWER_TIMEOUT,
            )
        except TimeoutError:
            fail(
                f"no worker answered within {WORKER_ANSWER_TIMEOUT:.0f} s; start `irp up` or `irp worker`. "
                "The decision is taken when a worker starts, and sending it again will not take it twice"
            )
        except WorkflowUpdateFailedError as error:
            why = str(error.cause) if error.cause else str(error)
            await handle.signal("rejected_decision", {"signal": signal, "input": payload, "reason": why})
            fail(f"{signal} rejected: {why}")
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                fail(f"no running incident `{incident_id}`")
            raise

    record = run_with_client(work)
    console.print(f"{incident_id}: {record.signal} by {record.by} accepted", markup=False, highlight=False)


def _decision_payload(input_json: str | None) -> dict[str, Any]:
    if input_json is None:
        return {}
    try:
        payload = json.loads(input_json)
    except json.JSONDecodeError as error:
        fail(f"--input is not valid JSON: {error}", code=2)
    if not isinstance(payload, dict):
        fail("--input must be one JSON object, such as '{\"decision\": \"affected\"}'", code=2)
    return payload
