"""An embargoed report on the real dev server: its text stays out of every plaintext store until the lift."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.builders import CVSS_VECTOR, cve_record, cyclonedx_sbom, write_json
from tests.test_end_to_end import Stack, stack  # noqa: F401 - fixture used by name

pytestmark = [pytest.mark.devserver, pytest.mark.timeout(300)]

EMBARGO_SECONDS = 45


def embargoed_email(path: Path, canary: str) -> Path:
    """Write an email report that attaches a CVE record; the canary is in its title, text and sender."""
    record = cve_record("CVE-2026-73001", package="gizmo", fixed="2.0.0", description=f"Overflow in gizmo {canary}.")
    record["containers"]["cna"]["title"] = f"Gizmo overflow {canary}"
    message = EmailMessage()
    message["From"] = f"Reporter {canary} <{canary}@example.org>"
    message["To"] = "security@example.org"
    message["Subject"] = f"CVE-2026-73001: gizmo overflow {canary}"
    message.set_content(f"Please keep this private. Details: {canary}.")
    message.add_attachment(json.dumps(record).encode(), maintype="application", subtype="json", filename="record.json")
    path.write_bytes(bytes(message))
    return path


def plaintext_places(stack: Stack) -> list[Path]:
    """List the files where Temporal and irp keep state or logs."""
    places = [p for p in stack.home.rglob("*") if p.is_file() and "outputs" not in p.parts]
    return [p for p in places if p.name != "irp.db" and not p.name.startswith("irp.db")] + list(stack.home.glob("irp.db*"))


def test_embargoed_report_stays_confidential(stack: Stack, tmp_path: Path):
    canary = f"canary{uuid.uuid4().hex}"
    sbom = write_json(tmp_path / "sbom.cdx.json", cyclonedx_sbom([("gizmo", "1.9.0")]))
    assert stack.irp("inventory", "load", str(sbom), "--product", "Widget Server", "--stream", "1.x").returncode == 0

    public_date = datetime.now().astimezone() + timedelta(seconds=EMBARGO_SECONDS)
    report = embargoed_email(tmp_path / "report.eml", canary)
    intake = stack.irp("intake", str(report), "--embargo-until", public_date.isoformat(), "--json")
    assert intake.returncode == 0, intake.stderr
    incident_id = json.loads(intake.stdout)[0]["incident"]
    assert incident_id.startswith("IRP-")

    stack.wait_for(incident_id, lambda s: s["matched"])
    decisions = [
        ("triage", "--decision", "affected"),
        ("assess", "--impact", "Important", "--cvss", CVSS_VECTOR, "--input", json.dumps({"statement": f"Statement {canary}", "mitigation": "None."})),
    ]
    for signal, *options in decisions:
        result = stack.irp("decide", incident_id, signal, "--by", "alice", "--reason", "checked", *options)
        assert result.returncode == 0, result.stderr
    stack.wait_for(incident_id, lambda s: s["trackers"])
    fixed = stack.irp("decide", incident_id, "tracker_decision", "--by", "dev", "--reason", "patched",
                      "--tracker", "1.x", "--decision", "fixed", "--fixed-in", "1.9.1")
    assert fixed.returncode == 0, fixed.stderr
    shown = stack.wait_for(incident_id, lambda s: s["phase"] == "closure")
    assert shown["embargo"]["embargoed"] is True
    assert shown["title"] == f"CVE-2026-73001: gizmo overflow {canary}" or canary in shown["title"]

    listed = stack.temporal("workflow", "list", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    assert canary not in listed.stdout
    assert "Widget Server" not in listed.stdout, "affected products leak through search attributes"

    for place in plaintext_places(stack):
        assert canary.encode() not in place.read_bytes(), f"the canary is in {place}"

    token = (stack.home / "codec-token").read_text().strip()
    endpoint = f"http://127.0.0.1:{stack.env['IRP_CODEC_PORT']}"
    decoded = stack.temporal("workflow", "show", "--workflow-id", incident_id, "--detailed",
                             "--codec-endpoint", endpoint, "--codec-auth", f"Bearer {token}")
    assert decoded.returncode == 0, decoded.stderr
    assert canary in decoded.stdout

    assert datetime.now().astimezone() < public_date, "the steps took longer than the embargo; raise EMBARGO_SECONDS"
    closed = stack.wait_for(incident_id, lambda s: s["phase"] == "closed", timeout=EMBARGO_SECONDS + 30)
    assert abs(datetime.fromisoformat(closed["embargo"]["lifted_at"]) - public_date) < timedelta(seconds=2)
    outputs = {Path(path).name: Path(path) for path in closed["outputs"]}
    assert canary in outputs["advisory.md"].read_text()
    assert canary in outputs["advisory.html"].read_text()
    time.sleep(0.5)
    assert stack.stop() == 0
