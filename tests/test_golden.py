"""Golden incident histories replay against the current workflow code.

A failure here means a change to `workflows/incident.py` would break incidents already running.
Put the change behind `workflow.patched(...)`; re-record with `make golden` only for a deliberate,
incompatible change (see "Changing the workflow safely" in the README).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from temporalio.converter import DataConverter
from temporalio.worker import Replayer
from temporalio.workflow import _Definition

from irp.audit.build import build_report
from irp.audit.history import read_history
from irp.codec import KEYS_VARIABLE, build_data_converter
from irp.deadlines import ClockEvent, EventKind
from irp.settings import Settings
from models.incident import Phase
from tests.record_golden import GOLDEN_CODEC_KEYS, GOLDEN_DIR
from workflows.incident import IncidentWorkflow

pytestmark = pytest.mark.timeout(60)

GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))


@pytest.fixture
def golden_converter(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> DataConverter:
    """Return the data converter that decrypts the golden histories with their test-only key."""
    monkeypatch.setenv(KEYS_VARIABLE, GOLDEN_CODEC_KEYS)
    return build_data_converter(settings)


def test_golden_files_exist():
    assert len(GOLDEN_FILES) >= 5, f"golden histories missing in {GOLDEN_DIR}; run `make golden`"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: path.stem)
async def test_golden_history_replays(path: Path, golden_converter: DataConverter):
    history = read_history(path)
    replayer = Replayer(workflows=[IncidentWorkflow], data_converter=golden_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{history.workflow_id} ({path.name}): {result.replay_failure}"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: path.stem)
async def test_golden_timers_match_policy(path: Path, golden_converter: DataConverter):
    report = await build_report(read_history(path), golden_converter)
    assert report.replay.ok, report.replay.error
    assert report.findings == []
    assert all(timer.expected_at is not None for timer in report.timers)


async def test_goldens_cover_workflow(golden_converter: DataConverter):
    reports = [await build_report(read_history(path), golden_converter) for path in GOLDEN_FILES]

    phases = {change.phase for report in reports for change in report.phase_changes}
    assert phases == {phase.value for phase in Phase}

    handlers = set(_Definition.from_class(IncidentWorkflow).signals) - {None}
    sent = {signal.name for report in reports for signal in report.signals}
    assert handlers - sent == set(), "add a scenario to tests/record_golden.py for these signals, then `make golden`"
    updates = set(_Definition.from_class(IncidentWorkflow).updates)
    assert updates - {update.name for report in reports for update in report.updates} == set()

    fired = {_timer_kind(timer.summary) for report in reports for timer in report.timers if timer.outcome == "fired"}
    assert fired == {_timer_kind(ClockEvent(at=None, kind=kind, deadline="triage", level=2).summary) for kind in EventKind} | {
        _timer_kind(ClockEvent(at=None, kind=EventKind.escalation, deadline="triage", level=1).summary)
    }

    resolutions = {report.resolution for report in reports}
    assert {"fixed", "rejected", "not_affected"} <= resolutions
    assert any(report.rejections for report in reports)
    assert any(report.holds for report in reports)


def _timer_kind(summary: str | None) -> str:
    """Reduce a timer summary to its kind: `fix TRK-1 reminder` and `triage reminder` are both `reminder`."""
    text = re.sub(r"^(triage|fix \S+) ", "", summary or "")
    return re.sub(r"level \d+", "level N", text)
