"""Metrics, JSON logs and graceful shutdown of the worker."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from irp.logs import JsonFormatter, configure_logging
from irp.settings import Settings
from irp.stack import dev_server_command
from irp.telemetry import TelemetryError, build_runtime, metrics_address
from tests.builders import cve_record, write_json
from tests.conftest import REPO, free_port
from tests.metrics_probe import MetricsProbeWorkflow
from worker import InvalidShutdownTimeout, shutdown_timeout
from workflows import metrics

pytestmark = pytest.mark.timeout(120)

GRACE_SECONDS = 5


def scrape(address: str) -> str:
    """Return the text of a Prometheus endpoint."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        return response.read().decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """Return the value of the first sample of `name` carrying all `labels`, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture(scope="module")
def metrics_runtime_address() -> str:
    """Return the address of one Prometheus runtime for this module (a runtime cannot be closed)."""
    return f"127.0.0.1:{free_port()}"


async def test_metrics_endpoint_serves_irp_metrics(time_skipping_env: WorkflowEnvironment, metrics_runtime_address):
    runtime = build_runtime(metrics_runtime_address)
    target = time_skipping_env.client.service_client.config.target_host
    client = await Client.connect(target, runtime=runtime, data_converter=pydantic_data_converter)
    task_queue = f"metrics-{uuid.uuid4()}"
    records = io.StringIO()
    handler = logging.StreamHandler(records)
    handler.setFormatter(JsonFormatter())
    workflow_logger = logging.getLogger("temporalio.workflow")
    workflow_logger.addHandler(handler)
    workflow_logger.setLevel(logging.INFO)

    try:
        async with Worker(client, task_queue=task_queue, workflows=[MetricsProbeWorkflow], workflow_failure_exception_types=[Exception]):
            first = await client.execute_workflow(MetricsProbeWorkflow.run, True, id=f"probe-{uuid.uuid4()}", task_queue=task_queue)
            await client.execute_workflow(MetricsProbeWorkflow.run, False, id=f"probe-{uuid.uuid4()}", task_queue=task_queue)
            history = await client.get_workflow_handle(first).fetch_history()
    finally:
        workflow_logger.removeHandler(handler)
        workflow_logger.setLevel(logging.NOTSET)
    text = scrape(metrics_runtime_address)

    assert sample(text, "temporal_workflow_completed", task_queue=task_queue) == 2
    assert sample(text, "irp_incidents_in_phase", task_queue=task_queue, phase="triage") == 1
    assert sample(text, "irp_incidents_in_phase", task_queue=task_queue, phase="assessment") == 1
    assert sample(text, "irp_escalations_total", task_queue=task_queue, level="2", kind="escalation") == 1
    assert sample(text, "irp_rejected_decisions_total", task_queue=task_queue, signal="assess") == 1
    assert sample(text, "irp_rejected_decisions_total", task_queue=task_queue, signal="other") == 1
    assert sample(text, "irp_escalations_total", task_queue=task_queue, level="0", kind="reminder") == 1
    assert sample(text, "irp_rejected_decisions_total", task_queue=task_queue, signal="close") == 1
    assert sample(text, "irp_time_to_triage_seconds_count", task_queue=task_queue) == 1
    assert sample(text, "irp_time_to_triage_seconds_bucket", task_queue=task_queue, le="60") == 0
    assert sample(text, "irp_time_to_triage_seconds_bucket", task_queue=task_queue, le="300") == 1
    assert sample(text, "irp_time_to_fix_seconds_count", task_queue=task_queue, impact="Important") == 1

    # Replaying the history must not count the phase changes again.
    counts = dict(metrics._phase_counts)
    await Replayer(workflows=[MetricsProbeWorkflow], data_converter=pydantic_data_converter).replay_workflow(history)
    assert dict(metrics._phase_counts) == counts

    lines = [json.loads(line) for line in records.getvalue().splitlines()]
    probe_line = next(line for line in lines if line["message"].startswith(f"probe {first} starts"))
    assert probe_line["temporal_workflow"]["workflow_id"] == first
    assert probe_line["temporal_workflow"]["workflow_type"] == "MetricsProbe"
    assert probe_line["level"] == "INFO"
    assert probe_line["logger"] == "temporalio.workflow"


def test_metric_functions_outside_workflow_do_nothing():
    counts = dict(metrics._phase_counts)

    metrics.record_phase_change(None, "triage")
    metrics.record_escalation(1)
    metrics.record_rejection("triage")
    metrics.record_triage_time(1.0)
    metrics.record_fix_time("Low", 1.0)

    assert dict(metrics._phase_counts) == counts


def test_json_formatter_keeps_only_known_extras():
    record = logging.LogRecord("irp.test", logging.WARNING, __file__, 1, "token %s", ("redacted",), None)
    record.temporal_activity = {"activity_type": "keep_report", "workflow_id": "CVE-2026-1", "attempt": 2}
    record.codec_key = "should-not-appear"

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "token redacted"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "irp.test"
    assert entry["time"].endswith("+00:00")
    assert entry["temporal_activity"] == {"activity_type": "keep_report", "workflow_id": "CVE-2026-1", "attempt": 2}
    assert "codec_key" not in entry


def test_configure_logging_rejects_unknown_format():
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        assert configure_logging({"IRP_LOG_FORMAT": "xml"}) == "text"
        assert configure_logging({}) == "text"
    finally:
        root.handlers = saved


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"IRP_METRICS_PORT": "off"}, None),
        ({"IRP_METRICS_PORT": "9464"}, "127.0.0.1:9464"),
        ({"IRP_METRICS_PORT": "9464", "IRP_METRICS_HOST": "0.0.0.0"}, "0.0.0.0:9464"),
        ({"IRP_METRICS_PORT": "9464", "IRP_METRICS_HOST": "::1"}, "[::1]:9464"),
    ],
)
def test_metrics_address_from_environment(environ, expected):
    assert metrics_address(environ) == expected


@pytest.mark.parametrize("port", ["0", "70000", "http", "-1"])
def test_metrics_address_rejects_bad_port(port):
    with pytest.raises(TelemetryError, match=f"IRP_METRICS_PORT `{port}` is not a TCP port"):
        metrics_address({"IRP_METRICS_PORT": port})


def test_shutdown_timeout_from_environment():
    assert shutdown_timeout({}) == timedelta(seconds=30)
    assert shutdown_timeout({"IRP_SHUTDOWN_TIMEOUT": "2.5"}) == timedelta(seconds=2.5)
    with pytest.raises(InvalidShutdownTimeout, match="`soon` is not a number of seconds"):
        shutdown_timeout({"IRP_SHUTDOWN_TIMEOUT": "soon"})


@pytest.fixture
def dev_server(tmp_path: Path):
    """Start a headless dev server on free ports and return its address."""
    address = f"127.0.0.1:{free_port()}"
    settings = Settings(
        home=tmp_path,
        database_url="unused",
        temporal_address=address,
        temporal_namespace="default",
        ui_port=free_port(),
        task_queue="unused",
    )
    log_file = (tmp_path / "temporal-server.log").open("wb")
    server = subprocess.Popen([*dev_server_command(settings), "--headless"], stdout=log_file, stderr=subprocess.STDOUT)
    yield address
    server.terminate()
    server.wait(15)
    log_file.close()


@pytest.mark.devserver
def test_worker_stops_gracefully_on_sigterm(dev_server: str, tmp_path: Path):
    home = tmp_path / "irp-home"
    metrics_port = free_port()
    environment = {
        **os.environ,
        "IRP_HOME": str(home),
        "TEMPORAL_ADDRESS": dev_server,
        "IRP_TASK_QUEUE": "observability",
        "IRP_LOG_FORMAT": "json",
        "IRP_METRICS_PORT": str(metrics_port),
        "IRP_SHUTDOWN_TIMEOUT": str(GRACE_SECONDS),
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as output:
        worker = subprocess.Popen([sys.executable, str(REPO / "worker.py")], env=environment, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_log(log_path, "worker polling", worker)
        report = write_json(tmp_path / "CVE-2026-40001.json", cve_record("CVE-2026-40001"))
        intake = subprocess.run([str(Path(sys.executable).parent / "irp"), "intake", str(report)], env=environment, capture_output=True, text=True, timeout=60)
        assert intake.returncode == 0, intake.stderr
        wait_for_log(log_path, "runs under policy", worker)
        text = scrape(f"127.0.0.1:{metrics_port}")

        stopping_at = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(GRACE_SECONDS + 15)
        elapsed = time.monotonic() - stopping_at
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    messages = [entry["message"] for entry in entries]
    activity_entry = next(entry for entry in entries if "runs under policy" in entry["message"])
    assert code == 0
    assert elapsed < GRACE_SECONDS + 10
    assert "received SIGTERM" in messages
    assert "worker stopped" in messages
    assert activity_entry["temporal_activity"]["workflow_id"] == "CVE-2026-40001"
    assert activity_entry["temporal_activity"]["activity_type"] == "load_policy"
    assert sample(text, "temporal_worker_task_slots_available", task_queue="observability") is not None


def wait_for_log(path: Path, text: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the log file contains `text`; fail if the process exits first."""
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert process.poll() is None, f"the worker exited early:\n{path.read_text()}"
        assert time.monotonic() < deadline, f"`{text}` not logged in {timeout} s:\n{path.read_text()}"
        time.sleep(0.1)
