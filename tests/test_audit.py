"""Audit reports, replay verdicts, export and verify, the archive: offline on golden histories, and on the dev server."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

import irp.cli.audit as audit_command
from irp.audit import replayer as replaying
from irp.audit.archive import MANIFEST, add_histories, check_archive, find_in_archive
from irp.audit.build import build_report
from irp.audit.history import HistoryError, history_from_json, history_to_json, read_history
from irp.audit.render import render_report
from irp.audit.replayer import replay
from irp.audit.report import AuditReport
from irp.cli import app
from irp.codec import KEYS_VARIABLE, build_data_converter
from irp.settings import Settings
from models.incident import IncidentInput, IncidentStatus
from models.steps import LoadPolicyInput
from tests.builders import CVSS_VECTOR, cve_record, cyclonedx_sbom, write_json
from tests.record_golden import GOLDEN_CODEC_KEYS, GOLDEN_DIR
from tests.test_incident_workflow import (  # noqa: F401 - fixtures used by name
    start_incident,
    terminate_leftovers,
    triaged,
    two_streams,
    wait_for,
)
from worker import build_worker
from workflows.incident import IncidentWorkflow

pytestmark = pytest.mark.timeout(60)

runner = CliRunner()


@workflow.defn(name="Incident", sandboxed=False)
class IncidentWithExtraStep(IncidentWorkflow):
    """The incident workflow with one more activity before the plan: an incompatible change."""

    @workflow.run
    async def run(self, start: IncidentInput) -> IncidentStatus:
        await workflow.execute_activity(
            "load_policy", LoadPolicyInput(incident_id=start.incident_id), start_to_close_timeout=timedelta(seconds=5)
        )
        return await super().run(start)


@pytest.fixture
def golden_converter(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> DataConverter:
    """Return the converter for the golden histories; the CLI reads the same test-only key and IRP_HOME."""
    monkeypatch.setenv(KEYS_VARIABLE, GOLDEN_CODEC_KEYS)
    monkeypatch.setenv("IRP_HOME", str(settings.home))
    return build_data_converter(settings)


def golden(name: str) -> WorkflowHistory:
    return read_history(GOLDEN_DIR / f"{name}.json")


async def test_report_names_who_decided_what(golden_converter: DataConverter):
    history = golden("every-phase")
    report = await build_report(history, golden_converter)

    assert report.incident_id == "CVE-2026-70001"
    assert report.replay.ok
    assert report.status == "completed"
    assert report.resolution == "fixed"
    assert report.policy_version == "builtin"
    assert [change.phase for change in report.phase_changes] == ["triage", "assessment", "closure", "closed"]

    decisions = [(d.signal, d.by, d.channel) for d in report.decisions]
    assert decisions == [
        ("assign", "alice", "signal"),
        ("triage", "alice", "signal"),
        ("assess", "bob", "update"),
        ("comment", "carol", "signal"),
        ("tracker_decision", "carol", "signal"),
        ("tracker_decision", "carol", "signal"),
    ]
    signals = {signal.event_id: signal for signal in report.signals}
    triage = report.decisions[1]
    assert signals[triage.event_id].input["reason"] == triage.reason == "widget 2.3.0 ships in 2.x"
    assert triage.identity == signals[triage.event_id].identity != ""
    assess = report.decisions[2]
    assert assess.identity == next(u.identity for u in report.updates if u.event_id == assess.event_id)
    assert all(decision.at >= report.started_at for decision in report.decisions)

    rejected = [(r.signal, r.by, r.channel) for r in report.rejections]
    assert rejected == [("triage", "eve", "signal"), ("close", "eve", "signal"), ("assess", "bob", "signal")]
    assert signals[report.rejections[2].event_id].name == "rejected_decision"
    assert "impact" in report.rejections[2].reason

    assert [(d.name, d.state, d.on_time) for d in report.deadlines] == [("triage", "met", True), ("fix TRK-1", "met", True)]
    assert any(output.endswith(".md") for output in report.outputs)
    scheduled = [e for e in history.events if e.HasField("activity_task_scheduled_event_attributes")]
    assert [a.activity_type for a in report.activities] == [
        e.activity_task_scheduled_event_attributes.activity_type.name for e in scheduled
    ]
    assert {"load_policy", "file_trackers"} <= {activity.activity_type for activity in report.activities}
    assert all(activity.outcome == "completed" for activity in report.activities)
    assert all(activity.summary for activity in report.activities)
    assert report.findings == []


async def test_report_shows_escalations_and_embargo(golden_converter: DataConverter):
    missed = await build_report(golden("missed-deadline"), golden_converter)
    triage = missed.deadlines[0]
    assert (triage.state, triage.on_time, triage.escalation_level) == ("met", False, 3)
    assert [(e.level, e.name) for e in missed.escalations][:4] == [(0, "reminder"), (1, "owner"), (2, "team lead"), (3, "PSIRT manager")]
    fired = [timer.summary for timer in missed.timers if timer.outcome == "fired"]
    assert fired == ["triage reminder", "triage due", "triage escalation level 2", "triage escalation level 3"]
    assert missed.policy_version == "golden-short-ladder"

    embargo = await build_report(golden("embargo-hold"), golden_converter)
    actions = [(event.by, event.details.get("action")) for event in embargo.embargo_events if event.signal == "embargo"]
    assert actions == [("lead", "set"), ("lead", "move"), ("irp", None)]
    assert embargo.embargo.lifted_because == "public date reached"
    assert [(hold.by, hold.end is not None) for hold in embargo.holds] == [("alice", True)]
    lift = next(timer for timer in embargo.timers if timer.summary == "embargo lifts")
    assert lift.outcome == "fired"
    assert abs(lift.fires_at - embargo.embargo.public_date) < timedelta(seconds=1)


async def test_changed_timer_is_a_finding(golden_converter: DataConverter):
    document = json.loads((GOLDEN_DIR / "missed-deadline.json").read_text())
    timer = next(event for event in document["events"] if "timerStartedEventAttributes" in event)
    timer["timerStartedEventAttributes"]["startToFireTimeout"] = "3s"
    history = history_from_json(json.dumps(document))

    report = await build_report(history, golden_converter)
    assert report.replay.ok, "replay does not check timer durations"
    mismatches = [finding for finding in report.findings if finding.kind == "clock mismatch"]
    assert len(mismatches) == 1
    assert mismatches[0].event_id == int(timer["eventId"])
    assert "golden-short-ladder" in mismatches[0].message


ROLES_POLICY = {
    "version": "roles-audit",
    "roles": {"people": {"tina": ["triage"], "ada": ["assessor"], "lee": ["psirt_lead"], "lou": ["legal"]}},
}


def with_nanosecond_times(history: WorkflowHistory) -> WorkflowHistory:
    """Return a copy whose event times carry nanoseconds, as the dev server and Temporal Cloud record them.

    The time-skipping server records milliseconds. With 999 ns more, protobuf's `ToDatetime`
    truncates an event time to the microsecond below the `workflow.now()` that replay derives
    from it, which is how the audit meets timestamps from a real server.
    """
    copy = history_from_json(history_to_json(history), history.workflow_id)
    for event in copy.events:
        event.event_time.nanos += 999
    return copy


async def test_major_incident_timers_match_policy(time_skipping_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(yaml.safe_dump(ROLES_POLICY))
    settings = dataclasses.replace(two_streams, policy_file=policy_file)
    client = time_skipping_env.client
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, settings, tmp_path, cve_record("CVE-2026-71002"))
        await wait_for(handle, triaged)
        await handle.signal("triage", {"by": "tina", "reason": "ships", "decision": "affected"})
        await wait_for(handle, lambda status: bool(status.trackers))
        await handle.signal("assess", {"by": "ada", "reason": "remote", "impact": "Critical", "cvss_vector": CVSS_VECTOR})
        await wait_for(handle, lambda status: status.cvss is not None)
        await handle.signal("major_incident", {"by": "ada", "reason": "wormable", "state": "requested"})
        await wait_for(handle, lambda status: status.major_incident == "requested")
        await handle.signal("major_incident", {"by": "ada", "reason": "urgent", "state": "approved"})
        await wait_for(handle, lambda status: bool(status.rejections))
        await handle.signal("major_incident", {"by": "lee", "reason": "agreed", "state": "approved"})
        await wait_for(handle, lambda status: status.major_incident == "approved")
        await handle.signal("assess", {"by": "ada", "reason": "r", "statement": "Update to 2.3.1.", "mitigation": "Block port 8443."})
        status = await wait_for(handle, lambda status: status.statement is not None)
        history = await handle.fetch_history()
        await handle.terminate("test finished")

    fix = next(deadline for deadline in status.deadlines if deadline.name.startswith("fix"))
    assert fix.policy == "major_incident: 5 business days"
    for recorded in (history, with_nanosecond_times(history)):
        report = await build_report(recorded, pydantic_data_converter)
        assert report.replay.ok, report.replay.error
        assert report.findings == []
        legal = [timer for timer in report.timers if timer.summary == "statement approval legal reminder"]
        assert legal, [timer.summary for timer in report.timers]
        assert all(timer.expected_summary == timer.summary for timer in report.timers)

        signals = {signal.event_id: signal for signal in report.signals}
        approval = next(d for d in report.decisions if d.signal == "major_incident" and d.details.get("state") == "approved")
        assert signals[approval.event_id].input["by"] == "lee"
        assert [(r.signal, signals[r.event_id].input["by"]) for r in report.rejections] == [("major_incident", "ada")]


def test_audit_all_lists_findings(golden_converter, monkeypatch: pytest.MonkeyPatch):
    document = json.loads((GOLDEN_DIR / "missed-deadline.json").read_text())
    timer = next(event for event in document["events"] if "timerStartedEventAttributes" in event)
    timer["timerStartedEventAttributes"]["startToFireTimeout"] = "3s"
    histories = [("CVE-2026-70001", golden("every-phase")), ("CVE-2026-70004", history_from_json(json.dumps(document)))]
    monkeypatch.setattr(audit_command, "run_with_client", lambda work: histories)

    result = runner.invoke(app, ["audit", "--all"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.stdout.split())
    assert "2 incident(s) replayed: 2 ok, 0 failed; 1 with findings (CVE-2026-70004)" in output
    assert f"CVE-2026-70004: clock mismatch (event {timer['eventId']}): timer" in output
    assert "CVE-2026-70001:" not in output


async def test_inserted_activity_fails_replay(golden_converter: DataConverter):
    verdict = await replay(golden("every-phase"), golden_converter, workflows=[IncidentWithExtraStep])
    assert not verdict.ok
    assert "TMPRL1100" in verdict.error


def test_verify_names_incident_that_fails_replay(golden_converter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    add_histories(tmp_path, [golden("every-phase"), golden("rejected-record")])
    monkeypatch.setattr(replaying, "AUDITED_WORKFLOWS", [IncidentWithExtraStep])

    result = runner.invoke(app, ["audit", "verify", str(tmp_path)])
    assert result.exit_code == 1
    assert "CVE-2026-70001" in result.output
    assert "CVE-2026-70002" in result.output
    assert "TMPRL1100" in result.output


async def test_report_renders_every_format(golden_converter: DataConverter):
    report = await build_report(golden("every-phase"), golden_converter)
    report.decisions[0].reason = "<script>alert(1)</script> | pipe\nnewline"

    html = render_report(report, "html")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    markdown = render_report(report, "md")
    assert "# Audit of CVE-2026-70001" in markdown
    assert "**OK**" in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| pipe newline" in markdown
    assert "| triage | alice |" in markdown

    assert AuditReport.model_validate_json(render_report(report, "json")) == report


def test_history_json_round_trip():
    text = (GOLDEN_DIR / "every-phase.json").read_text()
    history = history_from_json(text)
    assert history.workflow_id == "CVE-2026-70001"
    assert json.loads(history_to_json(history)) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "is not JSON"),
        ("[]", "non-empty `events` list"),
        ('{"events": [{"eventId": "one", "eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"}]}', "not a valid workflow history"),
        ('{"events": [{"eventId": "1", "eventType": "EVENT_TYPE_TIMER_FIRED"}]}', "does not start with"),
    ],
)
def test_malformed_history_rejected(text: str, expected: str):
    with pytest.raises(HistoryError, match=expected):
        history_from_json(text, source="bad.json")


def test_export_verify_round_trip(golden_converter, tmp_path: Path):
    names = add_histories(tmp_path, [read_history(path) for path in sorted(GOLDEN_DIR.glob("*.json"))])
    assert sorted(names) == [f"CVE-2026-7000{n}.json" for n in range(1, 6)]
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert set(manifest["histories"]) == set(names)
    assert manifest["manifest_sha256"]

    result = runner.invoke(app, ["audit", "verify", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "5 history file(s) match the manifest and replay" in result.output


def test_flipped_byte_names_file(golden_converter, tmp_path: Path):
    add_histories(tmp_path, [golden("every-phase"), golden("rejected-record")])
    changed = tmp_path / "CVE-2026-70002.json"
    data = bytearray(changed.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed.write_bytes(bytes(data))

    result = runner.invoke(app, ["audit", "verify", str(tmp_path)])
    assert result.exit_code == 1
    assert "CVE-2026-70002.json: SHA-256 differs from the manifest" in " ".join(result.output.split())
    assert "CVE-2026-70001.json" not in result.output


def test_changed_manifest_detected(golden_converter, tmp_path: Path):
    add_histories(tmp_path, [golden("rejected-record")])
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["histories"]["CVE-2026-70002.json"]["events"] = 1
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    (tmp_path / "stray.json").write_text("{}")

    problems = " ".join(check_archive(tmp_path).problems)
    assert "does not match its `manifest_sha256`" in problems
    assert "differs from the one in manifest.sha256" in problems
    assert "stray.json: not listed in the manifest" in problems


def test_audit_falls_back_to_archive(golden_converter, settings: Settings, monkeypatch):
    add_histories(settings.home / "archive", [golden("every-phase")])
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")

    result = runner.invoke(app, ["audit", "CVE-2026-70001", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = AuditReport.model_validate_json(result.stdout)
    assert report.incident_id == "CVE-2026-70001"
    assert report.replay.ok

    missing = runner.invoke(app, ["audit", "CVE-2026-79999"])
    assert missing.exit_code == 1
    assert "does not hold it" in missing.output


def test_audit_command_surface(golden_converter):
    assert runner.invoke(app, ["audit", "--format", "pdf", "CVE-1"]).exit_code == 2
    assert runner.invoke(app, ["audit", "CVE-1", "--all"]).exit_code == 2
    assert runner.invoke(app, ["audit", "export", "only-a-dir"]).exit_code == 2
    assert "verify" in runner.invoke(app, ["audit", "--help"]).output


# On the dev server: the `temporal` CLI's identity and JSON, the archive schedule, NOT_FOUND fallback.


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    from tests.test_end_to_end import Stack

    running = Stack(tmp_path_factory.mktemp("audit") / "home")
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.stop()


@pytest.mark.devserver
@pytest.mark.timeout(240)
def test_audit_on_dev_server(stack, tmp_path: Path):
    incident_id = "CVE-2026-71001"
    sbom = write_json(tmp_path / "sbom.cdx.json", cyclonedx_sbom([("gadget", "1.0.0")]))
    assert stack.irp("inventory", "load", str(sbom), "--product", "Audit Box", "--stream", "1.x").returncode == 0
    record = write_json(tmp_path / "record.json", cve_record(incident_id, package="gadget", fixed="1.0.1"))
    assert stack.irp("intake", str(record)).returncode == 0
    stack.wait_for(incident_id, lambda s: s["matched"])

    namespace = stack.temporal("operator", "namespace", "describe", "--namespace", "default", "--output", "json")
    assert namespace.returncode == 0, namespace.stderr
    assert json.loads(namespace.stdout)["config"]["workflowExecutionRetentionTtl"] == "315360000s"

    triage = '{"by": "alice", "reason": "gadget 1.0.0 ships", "decision": "affected"}'
    signalled = stack.temporal("workflow", "signal", "--workflow-id", incident_id, "--name", "triage", "--input", triage)
    assert signalled.returncode == 0, signalled.stderr
    shown = stack.wait_for(incident_id, lambda s: s["trackers"])
    assert stack.irp("decide", incident_id, "assess", "--by", "bob", "--reason", "remote", "--impact", "Low", "--cvss", CVSS_VECTOR).returncode == 0
    decided = stack.irp(
        "decide", incident_id, "tracker_decision", "--by", "carol", "--reason", "patched",
        "--input", json.dumps({"tracker": shown["trackers"][0]["id"], "decision": "fixed", "fixed_in": "1.0.1"}),
    )
    assert decided.returncode == 0, decided.stderr
    stack.wait_for(incident_id, lambda s: s["phase"] == "closed")

    audited = stack.irp("audit", incident_id, "--format", "json")
    assert audited.returncode == 0, audited.stderr
    report = AuditReport.model_validate_json(audited.stdout)
    triage_decision = next(d for d in report.decisions if d.signal == "triage")
    assert triage_decision.by == "alice"
    assert triage_decision.identity.startswith("temporal-cli:")
    assess = next(d for d in report.decisions if d.signal == "assess")
    assert assess.channel == "update"
    assert report.findings == []

    shown_json = stack.temporal("workflow", "show", "--workflow-id", incident_id, "--output", "json")
    assert shown_json.returncode == 0, shown_json.stderr
    exported = tmp_path / "export"
    assert stack.irp("audit", "export", incident_id, str(exported)).returncode == 0
    assert json.loads((exported / f"{incident_id}.json").read_text()) == json.loads(shown_json.stdout)
    assert history_from_json(shown_json.stdout).workflow_id == incident_id

    schedule = stack.temporal("schedule", "describe", "--schedule-id", "irp-archive")
    assert schedule.returncode == 0, schedule.stderr
    assert stack.temporal("schedule", "trigger", "--schedule-id", "irp-archive").returncode == 0
    archive = stack.home / "archive"
    deadline = time.monotonic() + 60
    while not (archive / f"{incident_id}.json").exists():
        assert time.monotonic() < deadline, f"the archive schedule did not archive {incident_id}: {stack.log.read_text()[-3000:]}"
        time.sleep(0.5)
    time.sleep(1)
    assert check_archive(archive).problems == []
    assert find_in_archive(archive, incident_id).run_id == report.run_id

    deleted = stack.temporal("workflow", "delete", "--workflow-id", incident_id, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    deadline = time.monotonic() + 90
    while stack.temporal("workflow", "describe", "--workflow-id", incident_id).returncode == 0:
        assert time.monotonic() < deadline, "the dev server did not delete the incident"
        time.sleep(0.5)
    fallback = stack.irp("audit", incident_id, "--format", "json")
    assert fallback.returncode == 0, fallback.stderr
    assert "reading the archived history" in fallback.stderr
    assert AuditReport.model_validate_json(fallback.stdout).run_id == report.run_id

    bulk = stack.irp("audit", "--all")
    assert bulk.returncode == 0, bulk.stderr
    assert "0 failed" in bulk.stdout
    verified = stack.irp("audit", "verify", str(archive))
    assert verified.returncode == 0, verified.stderr
