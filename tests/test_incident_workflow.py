"""The incident workflow on the time-skipping server, with real activities and database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from irp.csaf.validate import validate_document
from irp.intake import deliver, read_source
from irp.inventory import load_sbom
from irp.settings import Settings
from models.decisions import DecisionRequest
from models.incident import DecisionRecord, IncidentStatus, Phase
from tests.builders import CVSS_VECTOR, cve_record, cyclonedx_sbom, write_json
from worker import build_worker

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def two_streams(settings: Settings, tmp_path: Path) -> Settings:
    """Load one stream shipping widget 2.3.0 (affected) and one shipping 2.5.0 (fixed)."""
    old = write_json(tmp_path / "old.cdx.json", cyclonedx_sbom([("widget", "2.3.0"), ("left-pad", "1.3.0")]))
    new = write_json(tmp_path / "new.cdx.json", cyclonedx_sbom([("widget", "2.5.0")]))
    load_sbom(settings.database_url, old, product="Acme Gateway", stream="2.x")
    load_sbom(settings.database_url, new, product="Acme Gateway", stream="3.x")
    return settings


STARTED: list[WorkflowHandle] = []


@pytest.fixture(autouse=True)
async def terminate_leftovers():
    """Terminate incidents a failed or skipped test left running, so time skipping is not blocked."""
    yield
    while STARTED:
        handle = STARTED.pop()
        try:
            await handle.terminate("test ended")
        except RPCError:
            pass


async def start_incident(client: Client, settings: Settings, tmp_path: Path, record: dict) -> WorkflowHandle:
    """Write a record to a file and take it in as `irp intake` does."""
    path = write_json(tmp_path / f"{record['cveMetadata']['cveId']}.json", record)
    source = read_source(path, datetime.now(UTC))
    await deliver(client, settings, source)
    handle = client.get_workflow_handle(source.report.id, result_type=IncidentStatus)
    STARTED.append(handle)
    return handle


async def wait_for(handle: WorkflowHandle, predicate: Callable[[IncidentStatus], bool]) -> IncidentStatus:
    """Query the status until the predicate holds."""
    for _ in range(200):
        status = await handle.query("status", result_type=IncidentStatus)
        if predicate(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition never held; last status: {status.model_dump_json(indent=1)}")


def triaged(status: IncidentStatus) -> bool:
    """Tell whether automatic triage has finished."""
    return status.matched


async def test_incident_walks_every_phase(time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = time_skipping_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record())
        status = await wait_for(handle, triaged)

        verdicts = {a.stream: a.status.value for a in status.affects}
        assert verdicts == {"2.x": "affected", "3.x": "not_affected"}
        assert status.phase == Phase.triage
        assert status.pending == ["triage decision"]

        await handle.signal("triage", {"by": "alice", "reason": "widget 2.3.0 ships in 2.x", "decision": "affected"})
        status = await wait_for(handle, lambda s: len(s.trackers) == 1)
        assert status.phase == Phase.assessment
        assert status.trackers[0].stream == "2.x"

        await handle.execute_update(
            "decide",
            DecisionRequest(signal="assess", input={"by": "bob", "reason": "remote, no auth", "impact": "critical", "cvss_vector": CVSS_VECTOR}),
            result_type=DecisionRecord,
        )
        status = await wait_for(handle, lambda s: s.cvss is not None)
        assert status.cvss.base_score == 9.8
        assert status.impact == "Critical"

        tracker_id = status.trackers[0].id
        await handle.signal(
            "tracker_decision",
            {"by": "carol", "reason": "patched upstream", "tracker": tracker_id, "decision": "fixed", "fixed_in": "2.3.1"},
        )
        final = await handle.result()

    assert final.phase == Phase.closed
    assert final.resolution == "fixed"
    outputs = {Path(path).name: Path(path) for path in final.outputs}
    assert set(outputs) == {"cve-2026-10001.json", "advisory.md", "advisory.html", "customer-notification.eml"}
    advisory = outputs["advisory.md"].read_text()
    assert "| Acme Gateway | 2.x | widget 2.3.0 | Fixed in 2.3.1 |" in advisory
    assert "Update to 2.3.1 or later." in advisory
    vex = json.loads(outputs["cve-2026-10001.json"].read_text())
    assert validate_document(vex) == []
    assert vex["vulnerabilities"][0]["cve"] == "CVE-2026-10001"
    assert vex["document"]["tracking"]["status"] == "final"
    assert [d.signal for d in final.decisions] == ["triage", "assess", "tracker_decision"]
    assert all(item.done for item in final.checklist)


async def test_malformed_decisions_are_rejected_and_kept(
    time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path
):
    client = time_skipping_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-10002"))
        await wait_for(handle, triaged)

        await handle.signal("triage", {"by": "alice", "reason": "typo", "decison": "affected"})
        await handle.signal("triage", "affected")
        await handle.signal("assess", {"by": "bob", "reason": "too early", "impact": "Low"})
        await handle.signal("triage")
        await handle.signal("triage", args=[{"by": "a", "reason": "r", "decision": "affected"}, {"a": 1}])
        await handle.signal("triag", {"by": "alice", "reason": "typo in the name", "decision": "affected"})
        status = await wait_for(handle, lambda s: len(s.rejections) == 6)

        reasons = [r.reason for r in status.rejections]
        assert "decision: Field required" in reasons[0]
        assert "decison: Extra inputs are not permitted" in reasons[0]
        assert "expects a JSON object, got str" in reasons[1]
        assert "not accepted in phase triage" in reasons[2]
        assert "expects exactly one JSON object, got 0 payloads" in reasons[3]
        assert "expects exactly one JSON object, got 2 payloads" in reasons[4]
        assert "unknown signal `triag`" in reasons[5]
        assert status.phase == Phase.triage
        assert status.triage is None

        await handle.signal("triage", {"by": "alice", "reason": "checked", "decision": "not_affected"})
        status = await wait_for(handle, lambda s: s.pending_dismissal is not None)
        assert "dismissal approved by a second analyst" in status.pending

        await handle.signal("approve_dismissal", {"by": "alice", "reason": "self", "approved": True})
        status = await wait_for(handle, lambda s: len(s.rejections) == 7)
        assert "cannot approve it" in status.rejections[-1].reason
        await handle.signal("approve_dismissal", {"by": "bob", "reason": "agreed", "approved": True})
        final = await handle.result()

    assert final.resolution == "not_affected"
    assert final.triage == "not_affected"
    assert len(final.rejections) == 7


async def test_update_validator_rejects_at_once(time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = time_skipping_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-10003"))
        await wait_for(handle, triaged)

        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(
                "decide",
                DecisionRequest(signal="tracker_decision", input={"by": "x", "reason": "y", "tracker": "2.x", "decision": "fixed"}),
            )
        assert "fixed_in" in str(failure.value.cause)

        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update("decide", DecisionRequest(signal="approve", input={}))
        assert "unknown decision `approve`" in str(failure.value.cause)

        status = await handle.query("status", result_type=IncidentStatus)
        assert status.decisions == []
        await handle.terminate("test finished")


async def test_rejected_record_ends_as_rejected(time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = time_skipping_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-10004", state="REJECTED"))
        final = await handle.result()

    assert final.phase == Phase.closed
    assert final.resolution == "rejected"
    assert final.record_state == "REJECTED"


async def test_same_flaw_twice_is_one_incident(time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = time_skipping_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        first = write_json(tmp_path / "first.json", cve_record("CVE-2026-10005"))
        second = write_json(tmp_path / "second.json", cve_record("CVE-2026-10005", description="Updated text."))
        for path in (first, first, second):
            await deliver(client, two_streams, read_source(path, datetime.now(UTC)))
        handle = client.get_workflow_handle("CVE-2026-10005", result_type=IncidentStatus)
        STARTED.append(handle)
        status = await wait_for(handle, lambda s: len(s.sources) == 2)

        assert [s.file for s in status.sources] == ["first.json", "second.json"]
        assert status.description == "Updated text."
        await handle.terminate("test finished")


async def test_planned_fix_keeps_closure_open(time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = time_skipping_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-10006"))
        await wait_for(handle, triaged)
        await handle.signal("triage", {"by": "alice", "reason": "ships", "decision": "affected", "products": ["Acme Gateway/3.x"]})
        await handle.signal("assess", {"by": "bob", "reason": "local only", "impact": "Moderate", "cvss_vector": CVSS_VECTOR})
        status = await wait_for(handle, lambda s: len(s.trackers) == 2)

        for tracker in status.trackers:
            await handle.signal(
                "tracker_decision",
                {"by": "carol", "reason": "next sprint", "tracker": tracker.id, "decision": "fix", "target_date": "2027-01-15"},
            )
        status = await wait_for(handle, lambda s: s.phase == Phase.closure)
        assert status.pending == ["all trackers resolved"]

        await handle.signal("tracker_decision", {"by": "carol", "reason": "shipped", "tracker": "2.x", "decision": "fixed", "fixed_in": "2.3.1"})
        await handle.signal(
            "tracker_decision",
            {"by": "dave", "reason": "end of life", "tracker": "Acme Gateway/3.x", "decision": "wont_fix", "justification": "out of support"},
        )
        final = await handle.result()

    assert final.phase == Phase.closed
    assert final.resolution == "fixed, wont_fix"
    assert {t.stream: t.decision for t in final.trackers} == {"2.x": "fixed", "3.x": "wont_fix"}


async def test_late_affected_stream_reopens_assessment(
    time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path
):
    client = time_skipping_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-10007"))
        await wait_for(handle, triaged)
        await handle.signal("triage", {"by": "alice", "reason": "ships", "decision": "affected"})
        await handle.signal("assess", {"by": "bob", "reason": "r", "impact": "Low", "cvss_vector": CVSS_VECTOR})
        await wait_for(handle, lambda s: s.trackers)
        await handle.signal("tracker_decision", {"by": "c", "reason": "r", "tracker": "2.x", "decision": "fix", "target_date": "2027-02-01"})
        await wait_for(handle, lambda s: s.phase == Phase.closure)

        await handle.signal("triage", {"by": "alice", "reason": "backport found", "decision": "affected", "products": ["Acme Gateway/3.x"]})
        status = await wait_for(handle, lambda s: len(s.trackers) == 2)
        assert status.phase == Phase.assessment
        assert "each tracker has an engineering decision" in status.pending
        await handle.terminate("test finished")
