"""Replaying many histories: `irp audit --all` and `irp audit verify`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from irp.audit.archive import ArchiveError, check_archive, read_archived
from irp.audit.build import build_report
from irp.audit.replayer import ReplayVerdict, replay
from irp.audit.report import Finding

Progress = Callable[[str], None]


@dataclass
class IncidentAudit:
    """One incident's replay verdict and audit findings, as `irp audit --all` summarises them."""

    name: str
    verdict: ReplayVerdict
    findings: list[Finding] = field(default_factory=list)


async def audit_each(
    histories: Sequence[tuple[str, WorkflowHistory]],
    data_converter: DataConverter,
    progress: Progress | None = None,
) -> list[IncidentAudit]:
    """Build the audit report of each history one by one, keeping its verdict and findings in order."""
    audits = []
    for name, history in histories:
        try:
            report = await build_report(history, data_converter)
            audits.append(IncidentAudit(name, report.replay, list(report.findings)))
        except Exception as error:  # one unreadable history must not stop the audit of the others
            verdict = ReplayVerdict(ok=False, error=f"audit failed: {error or repr(error)}", error_type=type(error).__name__)
            audits.append(IncidentAudit(name, verdict))
        if progress is not None:
            progress(name)
    return audits


def describe_findings(audits: Sequence[IncidentAudit]) -> list[str]:
    """Describe each finding, naming its incident and the event it concerns."""
    lines = []
    for audit in audits:
        for finding in audit.findings:
            where = f" (event {finding.event_id})" if finding.event_id is not None else ""
            lines.append(f"{audit.name}: {finding.kind}{where}: {finding.message}")
    return lines


async def replay_each(
    histories: Sequence[tuple[str, WorkflowHistory]],
    data_converter: DataConverter,
    workflows: Sequence[type] | None = None,
    progress: Progress | None = None,
) -> list[tuple[str, ReplayVerdict]]:
    """Replay histories one by one, returning (name, verdict) pairs in order."""
    verdicts = []
    for name, history in histories:
        verdicts.append((name, await replay(history, data_converter, workflows)))
        if progress is not None:
            progress(name)
    return verdicts


def replay_failures(verdicts: list[tuple[str, ReplayVerdict]]) -> list[str]:
    """Describe each failed replay, naming its incident."""
    return [f"{name}: replay failed: {verdict.error}" for name, verdict in verdicts if not verdict.ok]


async def verify_archive(
    directory: Path,
    data_converter: DataConverter,
    workflows: Sequence[type] | None = None,
    progress: Progress | None = None,
) -> tuple[int, list[str]]:
    """Check every hash of an archive and replay every history offline; return the history count and the problems."""
    check = check_archive(directory)
    problems = list(check.problems)
    histories = []
    for name, entry in check.histories.items():
        try:
            history = read_archived(directory, name, entry)
        except ArchiveError as error:
            problems.append(str(error))
            continue
        histories.append((f"{history.workflow_id} ({directory / name})", history))
    verdicts = await replay_each(histories, data_converter, workflows, progress)
    return len(check.histories), problems + replay_failures(verdicts)
