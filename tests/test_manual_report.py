"""Manual reports from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from irp.intake import deliver
from irp.settings import Settings
from irp.sources.manual import ManualReport, manual_source
from models.incident import IncidentStatus
from tests.test_incident_workflow import STARTED, terminate_leftovers, two_streams, wait_for  # noqa: F401
from worker import build_worker

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_manual_report_without_cve_gets_internal_id():
    source = manual_source(ManualReport(title="Overflow in gizmo", description="Found by fuzzing."), NOW)
    assert source.report.id.startswith("IRP-")
    assert source.report.format == "manual"
    assert source.file == "manual report"
    assert manual_source(ManualReport(title="Overflow in gizmo", description="Found by fuzzing."), NOW).digest == source.digest


def test_manual_report_keeps_cve_and_reporter():
    fields = ManualReport(title="t", description="d", cve="cve-2026-74001", reporter="Eve <eve@example.org>")
    report = manual_source(fields, NOW).report
    assert report.id == "CVE-2026-74001"
    assert report.reporter == "Eve <eve@example.org>"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"title": "", "description": "d"}, "title"),
        ({"title": "t", "description": "d", "cve": "CVE-26-1"}, "cve"),
        ({"title": "t", "description": "x" * 20_001}, "description"),
    ],
)
def test_manual_report_rejects_bad_fields(fields: dict, problem: str):
    with pytest.raises(ValidationError) as invalid:
        ManualReport(**fields)
    assert problem in str(invalid.value)


async def test_manual_report_opens_incident(time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = time_skipping_env.client
    source = manual_source(ManualReport(title="Overflow in widget", description="Reported by a customer."), NOW)
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        assert await deliver(client, two_streams, source) in {"started", "merged"}
        handle = client.get_workflow_handle(source.report.id, result_type=IncidentStatus)
        STARTED.append(handle)
        status = await wait_for(handle, lambda s: s.matched)

        assert {a.status.value for a in status.affects} == {"unknown"}
        await handle.signal("triage", {"by": "alice", "reason": "ships it", "decision": "affected", "products": ["Acme Gateway/2.x"]})
        status = await wait_for(handle, lambda s: s.trackers)
        assert [t.stream for t in status.trackers] == ["2.x"]
