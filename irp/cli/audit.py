"""`irp audit`: audit reports, bulk replay, export and verification of incident histories."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode
from typer.core import TyperGroup

from irp.audit.archive import ArchiveError, add_histories, archive_dir, find_in_archive, manifest_body_hash, read_manifest
from irp.audit.build import build_report
from irp.audit.bulk import audit_each, describe_findings, replay_failures, verify_archive
from irp.audit.history import HistoryError, fetch_history
from irp.audit.render import FORMATS, render_report
from irp.cli.common import console, errors, fail, run_with_client
from irp.client import connect
from irp.codec import CodecError, build_data_converter, codec_enabled
from irp.settings import Settings, load_settings

INCIDENTS = "WorkflowType = 'Incident'"
REPORT_COMMAND = "report"


class AuditGroup(TyperGroup):
    """Command group that sends `irp audit ID` and `irp audit --all` to the hidden `report` command."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [REPORT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=AuditGroup,
    help="Audit incidents. `irp audit ID [--format md|html|json] [--output FILE]` prints one audit report; `irp audit --all [--query Q]` audits every incident, lists each finding, and exits 1 naming each replay failure.",
    no_args_is_help=True,
)


@app.command(name=REPORT_COMMAND, hidden=True)
def report(
    incident_id: Annotated[str | None, typer.Argument(help="Incident id, such as a CVE id.")] = None,
    all_incidents: Annotated[bool, typer.Option("--all", help="Audit every incident and summarise replay failures and findings.")] = False,
    query: Annotated[str | None, typer.Option(help="With --all: extra visibility query, e.g. \"IrpPhase = 'closed'\".")] = None,
    output_format: Annotated[str, typer.Option("--format", help="Report format: md, html or json.")] = "md",
    output: Annotated[Path | None, typer.Option(help="Write the report to this file instead of stdout.")] = None,
) -> None:
    """Print one incident's audit report, or audit every incident with --all."""
    if all_incidents:
        if incident_id is not None:
            _usage("give an incident id or --all, not both")
        replay_all(query)
        return
    if incident_id is None:
        _usage("give an incident id, --all, or a command: export, verify")
    if query is not None:
        _usage("--query goes with --all")
    if output_format not in FORMATS:
        _usage(f"--format must be one of {', '.join(FORMATS)}, not `{output_format}`")

    settings = load_settings()
    converter = _data_converter(settings)
    history = asyncio.run(_history_from_temporal_or_archive(settings, incident_id))
    audit = asyncio.run(build_report(history, converter))
    text = render_report(audit, output_format)
    if output is None:
        typer.echo(text, nl=False)
    else:
        _write(output, text)
        console.print(f"{incident_id}: audit report written to {output}", markup=False, highlight=False, soft_wrap=True)
    if not audit.replay.ok:
        errors.print(f"{incident_id}: replay failed: {audit.replay.error}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def replay_all(query: str | None) -> None:
    """Audit every incident Temporal holds, list each finding, and exit 1 naming each one that fails replay."""
    settings = load_settings()
    converter = _data_converter(settings)

    async def work(client: Client, settings: Settings) -> list[tuple[str, WorkflowHistory]]:
        return await _fetch_all(client, query)

    histories = run_with_client(work)
    with _progress() as progress:
        task = progress.add_task("auditing", total=len(histories))
        audits = asyncio.run(audit_each(histories, converter, progress=lambda name: progress.advance(task)))
    failures = replay_failures([(audit.name, audit.verdict) for audit in audits])
    with_findings = [audit.name for audit in audits if audit.findings]

    summary = f"{len(audits)} incident(s) replayed: {len(audits) - len(failures)} ok, {len(failures)} failed; {len(with_findings)} with findings"
    if with_findings:
        summary += f" ({', '.join(with_findings)})"
    console.print(summary, markup=False, highlight=False, soft_wrap=True)
    # Findings are for an auditor to read, not replay failures, so they alone keep exit code 0.
    for line in describe_findings(audits):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    for failure in failures:
        errors.print(failure, markup=False, highlight=False, soft_wrap=True)
    if failures:
        raise typer.Exit(1)


@app.command()
def export(
    arguments: Annotated[list[str], typer.Argument(help="ID... DIR, or DIR with --all.", metavar="[ID...] DIR")],
    all_incidents: Annotated[bool, typer.Option("--all", help="Export every incident.")] = False,
    query: Annotated[str | None, typer.Option(help="With --all: extra visibility query.")] = None,
) -> None:
    """Export histories as `<id>.json` with a SHA-256 manifest into DIR."""
    *incident_ids, directory_name = arguments
    if all_incidents == bool(incident_ids):
        _usage("give incident ids before DIR, or --all and DIR")
    directory = Path(directory_name)

    async def work(client: Client, settings: Settings) -> list[str]:
        if all_incidents:
            histories = [history for _, history in await _fetch_all(client, query)]
        else:
            histories = [await _fetch_one(client, incident_id) for incident_id in incident_ids]
        return add_histories(directory, histories, namespace=client.namespace)

    try:
        written = run_with_client(work)
        manifest = read_manifest(directory)
    except (ArchiveError, OSError) as error:
        fail(f"cannot export into {directory}: {error}")
    for name in written:
        console.print(f"exported {directory / name}", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"manifest {directory / 'manifest.json'}: SHA-256 of its body {manifest_body_hash(manifest)}; "
        "keep this hash apart from the folder to detect a rewritten manifest",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def verify(directory: Annotated[Path, typer.Argument(help="Folder written by `irp audit export` or the archive.")]) -> None:
    """Check every SHA-256 of an exported folder and replay every history offline."""
    if not directory.is_dir():
        fail(f"{directory} is not a folder")
    converter = _data_converter(load_settings())
    with _progress() as progress:
        task = progress.add_task("replaying", total=None)
        count, problems = asyncio.run(verify_archive(directory, converter, progress=lambda name: progress.advance(task)))
    for problem in problems:
        errors.print(problem, markup=False, highlight=False, soft_wrap=True)
    if problems:
        errors.print(f"{directory}: {len(problems)} problem(s) in {count} verified history file(s)", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"{directory}: {count} history file(s) match the manifest and replay", markup=False, highlight=False, soft_wrap=True)


async def _history_from_temporal_or_archive(settings: Settings, incident_id: str) -> WorkflowHistory:
    """Fetch an incident's history from Temporal, or from the archive when Temporal no longer has it."""
    try:
        client = await connect(settings)
        return await fetch_history(client, incident_id)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            fail(f"Temporal at {settings.temporal_address} failed the request: {error.message}")
        reason = "Temporal has no such incident"
    except RuntimeError:
        reason = f"cannot reach Temporal at {settings.temporal_address}"

    directory = archive_dir(settings)
    try:
        history = find_in_archive(directory, incident_id)
    except (ArchiveError, HistoryError) as error:
        fail(f"{reason}, and the archive cannot be read: {error}")
    if history is None:
        fail(f"no incident `{incident_id}`: {reason}, and the archive {directory} does not hold it")
    errors.print(f"{incident_id}: {reason}; reading the archived history in {directory}", markup=False, highlight=False, soft_wrap=True)
    return history


async def _fetch_one(client: Client, incident_id: str) -> WorkflowHistory:
    try:
        return await fetch_history(client, incident_id)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            fail(f"no incident `{incident_id}` in Temporal")
        raise


async def _fetch_all(client: Client, query: str | None) -> list[tuple[str, WorkflowHistory]]:
    """Fetch the latest run's history of every incident the query matches."""
    full_query = INCIDENTS + (f" AND ({query})" if query else "")
    histories = []
    async for execution in client.list_workflows(full_query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        histories.append((execution.id, await handle.fetch_history()))
    return histories


def _data_converter(settings: Settings) -> DataConverter:
    """Return the converter that decrypts payloads, as workers and `irp show` use."""
    try:
        return build_data_converter(settings) if codec_enabled() else pydantic_data_converter
    except CodecError as error:
        fail(str(error))


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=errors, transient=True)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")


def _usage(message: str) -> None:
    """Print a usage error and exit 2, as Typer does for a malformed command line."""
    errors.print(f"[red]usage error:[/red] {message}; see `irp audit --help`", markup=True, highlight=False)
    raise typer.Exit(2)
