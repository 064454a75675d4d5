"""Major Incidents on the time-skipping server: the automatic request, sign-off gates, escalation."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from irp.settings import Settings
from tests.builders import CVSS_VECTOR, cve_record
from tests.test_incident_workflow import (  # noqa: F401 - fixtures used by name
    start_incident,
    terminate_leftovers,
    triaged,
    two_streams,
    wait_for,
)
from worker import build_worker

pytestmark = pytest.mark.timeout(120)

POLICY = {
    "version": "major-incident-test",
    "sla": {"statement_approval": "PT30S"},
    "escalation": [
        {"name": "approver", "notify": ["owner"]},
        {"name": "PSIRT lead", "notify": ["psirt_lead"], "after": "PT10S"},
    ],
    "recipients": {
        "owner": ["queue@example.org"],
        "psirt_lead": ["psirt-lead@example.org"],
        "legal": ["legal@example.org"],
        "communications": ["press@example.org"],
    },
}


def exploited_record(cve_id: str) -> dict:
    """Build a record that CISA's ADP container lists in KEV."""
    record = cve_record(cve_id)
    record["containers"]["adp"] = [
        {
            "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000001", "shortName": "CISA-ADP"},
            "metrics": [{"other": {"type": "kev", "content": {"dateAdded": "2026-12-01", "reference": "https://example.org/kev"}}}],
        }
    ]
    return record


@pytest.fixture
def settings_with_policy(two_streams: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(POLICY))
    return dataclasses.replace(two_streams, policy_file=path)


async def test_publication_waits_for_both_signoffs(clock_env: WorkflowEnvironment, settings_with_policy: Settings, tmp_path: Path):
    settings = settings_with_policy
    client = clock_env.client
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, settings, tmp_path, exploited_record("CVE-2026-72001"))
        await wait_for(handle, triaged)
        await handle.signal("triage", {"by": "tina", "reason": "ships", "decision": "affected"})
        await handle.signal("assess", {"by": "ada", "reason": "KEV", "impact": "Critical", "cvss_vector": CVSS_VECTOR})
        status = await wait_for(handle, lambda s: s.major_incident == "requested")
        assert status.decisions[-1].by == "irp"

        await handle.signal("major_incident", {"by": "lee", "reason": "exploited in the wild", "state": "approved"})
        status = await wait_for(handle, lambda s: s.trackers and s.major_incident == "approved")
        fix = next(d for d in status.deadlines if d.name.startswith("fix"))
        assert fix.policy == "major_incident: 5 business days"

        await handle.signal("assess", {"by": "ada", "reason": "r", "statement": "Update now.", "mitigation": "Block port 80."})
        await handle.signal("tracker_decision", {"by": "dev", "reason": "r", "tracker": "2.x", "decision": "fixed", "fixed_in": "2.3.1"})
        await handle.signal("approve_statement", {"by": "lou", "reason": "ok", "role": "legal", "approved": True})
        status = await wait_for(handle, lambda s: "legal" in s.statement_approvals)
        assert status.phase == "assessment"
        assert status.outputs == []
        assert "communications approved the statement" in status.pending

        await handle.signal("approve_statement", {"by": "cam", "reason": "ok", "role": "communications", "approved": True})
        final = await handle.result()

    assert final.phase == "closed"
    names = [Path(path).name for path in final.outputs]
    assert names == [
        "cve-2026-72001.json", "advisory.md", "advisory.html", "customer-notification.eml", "post-incident-review.md",
    ]
    review = Path(final.outputs[-1]).read_text()
    assert "approve_statement" in review
    assert "legal: approved by lou" in review


async def test_missed_legal_signoff_escalates(clock_env: WorkflowEnvironment, settings_with_policy: Settings, tmp_path: Path):
    settings = settings_with_policy
    client = clock_env.client
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, settings, tmp_path, cve_record("CVE-2026-72002"))
        await wait_for(handle, triaged)
        await handle.signal("triage", {"by": "tina", "reason": "ships", "decision": "affected"})
        await handle.signal("assess", {"by": "ada", "reason": "r", "impact": "Important", "statement": "S", "mitigation": "M"})
        await handle.signal("major_incident", {"by": "ada", "reason": "press interest", "state": "requested"})
        await handle.signal("major_incident", {"by": "lee", "reason": "agreed", "state": "approved"})
        await wait_for(handle, lambda s: any(d.name == "statement approval legal" for d in s.deadlines))
        await handle.signal("approve_statement", {"by": "cam", "reason": "ok", "role": "communications", "approved": True})

        await clock_env.sleep(timedelta(seconds=45))
        status = await wait_for(handle, lambda s: any(e.deadline == "statement approval legal" and e.level == 2 for e in s.escalations))

        legal = [e for e in status.escalations if e.deadline == "statement approval legal"]
        assert [(e.level, e.recipients) for e in legal] == [
            (0, ["legal@example.org"]),
            (1, ["legal@example.org"]),
            (2, ["psirt-lead@example.org"]),
        ]
        assert not any(e.deadline == "statement approval communications" and e.level > 0 for e in status.escalations)
        assert next(d for d in status.deadlines if d.name == "statement approval legal").state == "missed"

        # Let every queued email go out first: the test server's clock waits on open activities.
        await wait_for(handle, lambda s: len(list(settings.outbox_dir.glob("*.eml"))) == len(s.escalations))
        await handle.terminate("test finished")
