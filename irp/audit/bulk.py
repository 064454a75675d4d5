"""Replaying many histories: `irp audit --all` and `irp audit verify`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from irp.audit.archive import ArchiveError, check_archive, read_archived
from irp.audit.replayer import ReplayVerdict, replay

Progress = Callable[[str], None]


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
