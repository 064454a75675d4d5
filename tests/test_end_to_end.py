"""End to end on the real dev server: `irp up`, then the `irp` and `temporal` CLIs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import CVSS_VECTOR, cve_record, cyclonedx_sbom, write_json
from tests.conftest import BIN, free_port

pytestmark = [pytest.mark.devserver, pytest.mark.timeout(300)]

CVE_ID = "CVE-2026-30001"
STARTUP_TIMEOUT = 90


class Stack:
    """An `irp up` process and the environment that points the CLIs at it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.address = f"127.0.0.1:{free_port()}"
        self.env = {
            **os.environ,
            "IRP_HOME": str(home),
            "TEMPORAL_ADDRESS": self.address,
            "IRP_UI_PORT": str(free_port()),
            "IRP_TASK_QUEUE": "irp-end-to-end",
            "IRP_CODEC_PORT": str(free_port()),
        }
        self.process: subprocess.Popen | None = None
        self.log = home / "irp-up.log"

    def start(self) -> None:
        """Start `irp up` and wait until it prints that it is ready."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        offset = self.log.stat().st_size
        with self.log.open("ab") as output:
            self.process = subprocess.Popen([str(BIN / "irp"), "up"], env=self.env, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Press Ctrl-C to stop." not in self.log.read_text()[offset:]:
            assert self.process.poll() is None, f"irp up exited early:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"irp up did not start:\n{self.log.read_text()}"
            time.sleep(0.2)

    def stop(self) -> int:
        """Send SIGTERM and return the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def finish(self) -> None:
        """Stop `irp up` if a test left it running: SIGTERM lets it stop its dev server too."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def irp(self, *args: str) -> subprocess.CompletedProcess:
        """Run the `irp` CLI against this stack."""
        return subprocess.run([str(BIN / "irp"), *args], env=self.env, capture_output=True, text=True, timeout=60)

    def temporal(self, *args: str) -> subprocess.CompletedProcess:
        """Run the `temporal` CLI against this stack."""
        command = [str(BIN / "temporal"), *args, "--address", self.address]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)

    def list(self) -> list[dict]:
        """Return `irp list --json`."""
        result = self.irp("list", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def show(self, incident_id: str) -> dict:
        """Return `irp show --json` of an incident."""
        result = self.irp("show", incident_id, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def wait_for(self, incident_id: str, predicate, timeout: float = 30) -> dict:
        """Poll `irp show` until the predicate holds."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.show(incident_id)
            if predicate(shown):
                return shown
            assert time.monotonic() < deadline, f"condition never held: {json.dumps(shown, indent=1)}"
            time.sleep(0.3)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path / "home")
    running.start()
    yield running
    running.finish()


def test_incident_from_intake_to_closed(stack: Stack, tmp_path: Path):
    old = write_json(tmp_path / "old.cdx.json", cyclonedx_sbom([("gizmo", "1.9.0")]))
    new = write_json(tmp_path / "new.cdx.json", cyclonedx_sbom([("gizmo", "2.1.0")]))
    assert stack.irp("inventory", "load", str(old), "--product", "Widget Server", "--stream", "1.x").returncode == 0
    assert stack.irp("inventory", "load", str(new), "--product", "Widget Server", "--stream", "2.x").returncode == 0

    record = write_json(tmp_path / "record.json", cve_record(CVE_ID, package="gizmo", fixed="2.0.0"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"dataType": "CVE_RECORD", "cveMetadata": ')
    intake = stack.irp("intake", str(record), str(broken), "--json")
    results = json.loads(intake.stdout)
    assert intake.returncode == 1
    assert results[0] == {"file": str(record), "incident": CVE_ID, "action": "started", "error": None}
    assert results[1]["action"] == "rejected"
    assert "broken.json" in (stack.home / "rejected-inputs.jsonl").read_text()
    again = json.loads(stack.irp("intake", str(record), "--json").stdout)
    assert again[0]["action"] == "merged"

    shown = stack.wait_for(CVE_ID, lambda s: len(s["affects"]) >= 2)
    verdicts = {(a["product"], a["stream"]): a["status"] for a in shown["affects"]}
    assert verdicts[("Widget Server", "1.x")] == "affected"
    assert verdicts[("Widget Server", "2.x")] == "not_affected"

    malformed = stack.temporal("workflow", "signal", "--workflow-id", CVE_ID, "--name", "triage", "--input", '{"by": "eve"}')
    assert malformed.returncode == 0, malformed.stderr
    shown = stack.wait_for(CVE_ID, lambda s: s["rejections"])
    assert shown["rejections"][0]["signal"] == "triage"
    assert "decision: Field required" in shown["rejections"][0]["reason"]

    triage = '{"by": "alice", "reason": "gizmo 1.9.0 ships in 1.x", "decision": "affected"}'
    signalled = stack.temporal("workflow", "signal", "--workflow-id", CVE_ID, "--name", "triage", "--input", triage)
    assert signalled.returncode == 0, signalled.stderr
    shown = stack.wait_for(CVE_ID, lambda s: s["phase"] == "assessment" and s["trackers"])

    refused = stack.irp("decide", CVE_ID, "assess", "--by", "bob", "--reason", "r", "--impact", "Severe")
    assert refused.returncode == 1
    assert "impact" in refused.stderr

    assessed = stack.irp("decide", CVE_ID, "assess", "--by", "bob", "--reason", "remote", "--impact", "Important", "--cvss", CVSS_VECTOR)
    assert assessed.returncode == 0, assessed.stderr
    decided = stack.irp(
        "decide", CVE_ID, "tracker_decision", "--by", "carol", "--reason", "patched",
        "--input", '{"tracker": "Widget Server/1.x", "decision": "fixed", "fixed_in": "1.9.1"}',
    )
    assert decided.returncode == 0, decided.stderr

    closed = stack.wait_for(CVE_ID, lambda s: s["phase"] == "closed")
    assert closed["resolution"] == "fixed"
    assert closed["cvss"]["base_score"] == 9.8
    assert [r["signal"] for r in closed["rejections"]] == ["triage", "assess"]
    outputs = {Path(path).name: Path(path) for path in closed["outputs"]}
    assert outputs["advisory.md"].read_text().startswith(f"# {CVE_ID}")
    assert stack.irp("csaf", "validate", str(outputs[f"{CVE_ID.lower()}.json"])).returncode == 0

    listed = stack.list()
    assert {row["id"]: row["phase"] for row in listed}[CVE_ID] == "closed"
    assert len(listed) > 1, "the demo incidents are missing"

    assert stack.stop() == 0


def test_second_up_resumes_incidents(stack: Stack):
    listed = stack.list()
    open_ids = sorted(row["id"] for row in listed if row["status"] == "running")
    assert open_ids, "the demo left no open incident"
    assert stack.stop() == 0

    stack.start()
    resumed = stack.list()
    assert sorted(row["id"] for row in resumed if row["status"] == "running") == open_ids

    commented = stack.irp("decide", open_ids[0], "comment", "--by", "alice", "--text", "still here")
    assert commented.returncode == 0, commented.stderr
    assert stack.stop() == 0


def test_history_readable_only_through_codec(stack: Stack, tmp_path: Path):
    incident_id = "CVE-2026-30002"
    title = "Heap overflow in sprocket"
    record = write_json(tmp_path / "record.json", cve_record(incident_id, package="sprocket"))
    intake = stack.irp("intake", str(record))
    assert intake.returncode == 0, intake.stderr

    endpoint = f"http://127.0.0.1:{stack.env['IRP_CODEC_PORT']}"
    token_file = stack.home / "codec-token"
    assert f"Codec:       {endpoint} (bearer token in {token_file})" in stack.log.read_text()
    token = token_file.read_text().strip()
    decoded = stack.temporal(
        "workflow", "show", "--detailed", "--workflow-id", incident_id,
        "--codec-endpoint", endpoint, "--codec-auth", f"Bearer {token}",
    )
    assert decoded.returncode == 0, decoded.stderr
    assert title in decoded.stdout

    encrypted = stack.temporal("workflow", "show", "--detailed", "--workflow-id", incident_id)
    assert encrypted.returncode == 0, encrypted.stderr
    assert "WorkflowExecutionSignaled" in encrypted.stdout
    assert title not in encrypted.stdout

    refused = stack.temporal(
        "workflow", "show", "--detailed", "--workflow-id", incident_id,
        "--codec-endpoint", endpoint, "--codec-auth", "Bearer wrong-token-0123456789",
    )
    assert title not in refused.stdout

    assert stack.stop() == 0
    for database_file in stack.home.glob("temporal.db*"):
        assert title.encode() not in database_file.read_bytes(), f"{database_file.name} holds the title in plaintext"
