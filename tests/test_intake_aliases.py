"""One flaw reported as a CVE record, an OSV record and an email becomes one incident."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from irp.intake import deliver, incident_id_for, read_source
from irp.inventory import load_sbom
from irp.settings import Settings
from models.incident import IncidentStatus, Phase
from tests.builders import cve_record, cyclonedx_sbom, write_json
from tests.test_incident_workflow import wait_for
from worker import build_worker

pytestmark = pytest.mark.timeout(120)

CVE_ID = "CVE-2026-40001"
GHSA_ID = "GHSA-4r5x-9m2w-cq7p"


def osv_record(record_id: str, aliases: list[str], **fields) -> dict:
    """Build an OSV record for the npm package `widget`, fixed in 2.4.1."""
    return {
        "schema_version": "1.6.0",
        "id": record_id,
        "modified": "2026-12-01T09:00:00Z",
        "published": "2026-12-01T09:00:00Z",
        "aliases": aliases,
        "summary": "Heap overflow in widget",
        "details": "widget's parser overflows a heap buffer on long headers.",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "widget"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.4.1"}]}],
            }
        ],
        **fields,
    }


def report_email(path: Path) -> Path:
    """Write an email to the security contact that names the CVE."""
    message = EmailMessage()
    message["From"] = "Eve Finder <eve@example.org>"
    message["To"] = "security@acme.example"
    message["Subject"] = f"{CVE_ID}: heap overflow in widget"
    message["Message-ID"] = "<finding-1@example.org>"
    message.set_content(f"Hello, {CVE_ID} also affects your gateway, which ships widget 2.3.0.\n")
    path.write_bytes(message.as_bytes())
    return path


@pytest.fixture
def widget_stream(settings: Settings, tmp_path: Path) -> Settings:
    """Load one stream shipping widget 2.3.0."""
    sbom = write_json(tmp_path / "gateway.cdx.json", cyclonedx_sbom([("widget", "2.3.0")]))
    load_sbom(settings.database_url, sbom, product="Acme Gateway", stream="2.x")
    return settings


async def test_three_sources_one_incident(time_skipping_env: WorkflowEnvironment, widget_stream: Settings, tmp_path: Path):
    client = time_skipping_env.client
    paths = [
        write_json(tmp_path / "record.json", cve_record(CVE_ID)),
        write_json(tmp_path / "advisory.json", osv_record(GHSA_ID, [CVE_ID])),
        report_email(tmp_path / "finding.eml"),
    ]

    async with build_worker(client, widget_stream, workflow_failure_exception_types=[Exception]):
        sources = [read_source(path, datetime.now(UTC)) for path in paths]
        assert [source.report.id for source in sources] == [CVE_ID, GHSA_ID, CVE_ID]
        assert {incident_id_for(source.report) for source in sources} == {CVE_ID}

        for source in sources:
            await deliver(client, widget_stream, source)
        handle = client.get_workflow_handle(CVE_ID, result_type=IncidentStatus)
        status = await wait_for(handle, lambda s: len(s.sources) == 3 and s.matched)

        assert status.id == CVE_ID
        assert [(source.file, source.format) for source in status.sources] == [
            ("record.json", "cve5"),
            ("advisory.json", "osv"),
            ("finding.eml", "email"),
        ]
        assert status.phase == Phase.triage
        assert [affect.status.value for affect in status.affects] == ["affected"]
        assert status.aliases == [GHSA_ID]
        with pytest.raises(RPCError):
            await client.get_workflow_handle(GHSA_ID).describe()
        await handle.terminate("test finished")


async def test_osv_alone_starts_cve_incident(time_skipping_env: WorkflowEnvironment, widget_stream: Settings, tmp_path: Path):
    client = time_skipping_env.client
    path = write_json(tmp_path / "advisory.json", osv_record("GHSA-8c3v-wq2m-x9hf", ["CVE-2026-40002"]))

    async with build_worker(client, widget_stream, workflow_failure_exception_types=[Exception]):
        await deliver(client, widget_stream, read_source(path, datetime.now(UTC)))
        handle = client.get_workflow_handle("CVE-2026-40002", result_type=IncidentStatus)
        status = await wait_for(handle, lambda s: s.matched)

        [affect] = status.affects
        assert affect.status.value == "affected"
        assert "GHSA-8c3v-wq2m-x9hf entry for widget" in affect.reason
        await handle.terminate("test finished")


async def test_withdrawn_osv_closes_own_incident(time_skipping_env: WorkflowEnvironment, widget_stream: Settings, tmp_path: Path):
    client = time_skipping_env.client
    record = osv_record("GHSA-2f6q-7hmv-p4xc", ["CVE-2026-40003"], withdrawn="2026-12-02T10:00:00Z")
    path = tmp_path / "withdrawn.json"
    path.write_text(json.dumps(record))

    async with build_worker(client, widget_stream, workflow_failure_exception_types=[Exception]):
        await deliver(client, widget_stream, read_source(path, datetime.now(UTC)))
        final = await client.get_workflow_handle("GHSA-2f6q-7hmv-p4xc", result_type=IncidentStatus).result()

        with pytest.raises(RPCError):
            await client.get_workflow_handle("CVE-2026-40003").describe()

    assert final.phase == Phase.closed
    assert final.record_state == "REJECTED"
    assert final.resolution == "withdrawn"
    assert final.report.withdrawn_at == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
