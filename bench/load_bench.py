"""Load benchmark: open many incidents with short deadlines and measure how late their escalations fire.

Run `python bench/load_bench.py [--incidents 1000]`. The script starts its own Temporal dev
server and a `python worker.py` subprocess under a temporary IRP_HOME. It opens the incidents
through `irp.intake.deliver` and waits until every reminder and escalation is due. Then it
compares the instants recorded in each incident's `status` query and the Date headers of the
.eml files in the outbox with the instants the policy calls for. Results go to
`bench/results/load-<UTC timestamp>.json` and one row of `bench/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from temporalio.service import RPCError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from irp.calendar import add_duration  # noqa: E402 - after the repository joins sys.path
from irp.intake import deliver  # noqa: E402
from irp.policy import load_policy  # noqa: E402
from irp.settings import Settings  # noqa: E402
from irp.sources import parse_report  # noqa: E402
from irp.stack import dev_server_command, stop_dev_server, wait_for_server  # noqa: E402
from models.incident import IncidentStatus, IntakeSource  # noqa: E402
from models.policy import Policy  # noqa: E402
from report import append_row, describe_machine, short_machine, write_result  # noqa: E402

TASK_QUEUE = "irp-load-bench"
FIRST_CVE_NUMBER = 800_000
WORKER_START_TIMEOUT = 120.0
WORKER_STOP_TIMEOUT = 60.0
OUTBOX_MARGIN = 300.0
"""Seconds to wait for emails beyond the last due instant of an incident opened now."""
QUERY_CONCURRENCY = 10
QUERY_ATTEMPTS = 5

POLICY = {
    "version": "load-bench",
    "triage_deadline": "PT60S",
    "reminder_fraction": 0.75,
    "escalation": [
        {"name": "owner", "notify": ["owner"]},
        {"name": "team lead", "notify": ["team_lead"], "after": "PT20S"},
        {"name": "PSIRT manager", "notify": ["psirt_manager"], "after": "PT20S"},
    ],
    "recipients": {
        "owner": ["owner@example.org"],
        "team_lead": ["lead@example.org"],
        "psirt_manager": ["manager@example.org"],
    },
    "notifications": {"sender": "irp-bench@example.org"},
}

RESULTS_TITLE = "Load benchmark results"
RESULTS_PREFACE = (
    "`python bench/load_bench.py` with a dev server and one worker on the machine named. Every incident gets a 60 s"
    " triage deadline, a reminder at 45 s and a three-level ladder 20 s apart. No incident is triaged, so each one"
    " sends four emails. Lateness runs from the instant the policy calls for to the instant the workflow recorded"
    " (status) or to the email's Date header, which has whole seconds and can read up to 1 s early."
)
RESULT_COLUMNS = [
    "date (UTC)", "incidents", "notifications", "missing", "late > tolerance",
    "status lateness p50 / p95 / max s", "email lateness p50 / p95 / max s", "intake s",
    "worker peak RSS MiB", "load at start", "machine",
]


@dataclass(frozen=True)
class Expected:
    """One notification the policy calls for: an incident's reminder (level 0) or a ladder level."""

    incident: str
    level: int
    due: datetime


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000, help="number of incidents to open (default 1000)")
    parser.add_argument("--concurrency", type=int, default=50, help="intake calls in flight at once (default 50)")
    parser.add_argument("--tolerance", type=float, default=5.0, help="seconds of lateness still on time (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary IRP_HOME for inspection")
    parser.add_argument("--no-record", action="store_true", help="print the results without writing results/ or RESULTS.md")
    arguments = parser.parse_args()
    if arguments.incidents < 1 or arguments.concurrency < 1 or arguments.tolerance < 0:
        parser.error("--incidents and --concurrency must be at least 1, --tolerance at least 0")

    home = Path(tempfile.mkdtemp(prefix="irp-load-bench-"))
    started = datetime.now(UTC)
    load_at_start = round(os.getloadavg()[0], 2)
    try:
        result = asyncio.run(run_benchmark(home, arguments.incidents, arguments.concurrency, arguments.tolerance))
    finally:
        if arguments.keep:
            print(f"IRP_HOME kept at {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    result["machine"]["load_average_1m_at_start"] = load_at_start
    print(json.dumps(result["summary"], indent=2))
    if not arguments.no_record:
        print(f"results: {write_results(result, started)}")
    # Lateness depends on what else the machine runs, so only a missing notification fails the run.
    if result["summary"]["missing"]:
        raise SystemExit(f"{result['summary']['missing']} notifications are missing")


async def run_benchmark(home: Path, incidents: int, concurrency: int, tolerance: float) -> dict:
    """Start the server and the worker, open the incidents, wait, and measure."""
    policy_file = home / "policy.yml"
    policy_file.write_text(json.dumps(POLICY))  # JSON is YAML
    policy = load_policy(policy_file)
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'irp.db'}",
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_namespace="default",
        ui_port=free_port(),
        task_queue=TASK_QUEUE,
        policy_file=policy_file,
    )
    environment = {
        **os.environ,
        "IRP_HOME": str(home),
        "IRP_POLICY": str(policy_file),
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "IRP_TASK_QUEUE": TASK_QUEUE,
        "IRP_SHUTDOWN_TIMEOUT": "5",
    }

    server_log = (home / "temporal-server.log").open("ab")
    server = subprocess.Popen(
        [*dev_server_command(settings), "--headless"], stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True
    )
    worker = None
    try:
        client = await wait_for_server(settings, server)
        worker = start_worker(home, environment)

        print(f"opening {incidents} incidents, {concurrency} at a time")
        started = time.monotonic()
        incident_ids = await open_incidents(client, settings, incidents, concurrency)
        intake_seconds = time.monotonic() - started
        print(f"opened {len(incident_ids)} incidents in {intake_seconds:.1f} s")

        await wait_for_notifications(settings.outbox_dir, incidents * (1 + len(policy.escalation)), policy)
        statuses = await query_statuses(client, incident_ids)
        worker_peak = peak_memory_kib(worker.pid)
        server_peak = peak_memory_kib(server.pid)
    finally:
        if worker is not None:
            stop_worker(worker)
        stop_dev_server(server)
        server_log.close()

    expected = [item for status in statuses for item in expected_notifications(status, policy)]
    recorded = recorded_by_status(statuses)
    emailed = recorded_by_email(settings.outbox_dir, policy)
    return summarize(incidents, concurrency, tolerance, intake_seconds, expected, recorded, emailed, worker_peak, server_peak)


def start_worker(home: Path, environment: dict[str, str]) -> subprocess.Popen:
    """Start `python worker.py` and wait until it polls."""
    log_path = home / "worker.log"
    with log_path.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, str(REPO / "worker.py")], cwd=REPO, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while "worker polling" not in log_path.read_text(errors="replace"):
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with code {worker.returncode}:\n{log_path.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            worker.kill()
            raise SystemExit(f"the worker did not start in {WORKER_START_TIMEOUT:.0f} s; see {log_path}")
        time.sleep(0.2)
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    """Stop the worker with SIGTERM, then SIGKILL if it does not exit."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


async def open_incidents(client, settings: Settings, count: int, concurrency: int) -> list[str]:
    """Deliver one generated CVE record per incident, at most `concurrency` at a time."""
    limit = asyncio.Semaphore(concurrency)

    async def open_one(number: int) -> str:
        cve_id = f"CVE-2026-{FIRST_CVE_NUMBER + number}"
        data = json.dumps(cve_record(cve_id)).encode()
        source = IntakeSource(
            file=f"{cve_id}.json",
            digest=hashlib.sha256(data).hexdigest(),
            received_at=datetime.now(UTC),
            report=parse_report(data, f"{cve_id}.json"),
            raw=data.decode(),
        )
        async with limit:
            await deliver(client, settings, source)
        return cve_id

    return list(await asyncio.gather(*(open_one(number) for number in range(count))))


async def wait_for_notifications(outbox: Path, expected_count: int, policy: Policy) -> None:
    """Wait until the outbox contains every expected email, or until the ladder's span plus a margin has passed.

    Counting files leaves the worker alone; status queries during the run would compete
    with the timers being measured.
    """
    ladder = timedelta()
    for step in policy.escalation:
        ladder += step.after.length
    span = (policy.triage_deadline.length + ladder).total_seconds()
    give_up = time.monotonic() + span + OUTBOX_MARGIN
    print(f"waiting up to {span + OUTBOX_MARGIN:.0f} s for {expected_count} emails")
    reported = 0.0
    while (count := len(list(outbox.glob("*.eml")))) < expected_count:
        if time.monotonic() > give_up:
            print(f"gave up with {count} of {expected_count} emails")
            return
        if time.monotonic() - reported > 15:
            print(f"{count} of {expected_count} emails")
            reported = time.monotonic()
        await asyncio.sleep(1)


async def query_statuses(client, incident_ids: list[str]) -> list[IncidentStatus]:
    """Query every incident's status, a few at a time, retrying queries that time out."""
    limit = asyncio.Semaphore(QUERY_CONCURRENCY)

    async def query(incident_id: str) -> IncidentStatus:
        async with limit:
            for attempt in range(QUERY_ATTEMPTS):
                try:
                    return await client.get_workflow_handle(incident_id).query("status", result_type=IncidentStatus)
                except RPCError:
                    if attempt == QUERY_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(2 * (attempt + 1))
        raise AssertionError("unreachable")

    return list(await asyncio.gather(*(query(incident_id) for incident_id in incident_ids)))


def expected_notifications(status: IncidentStatus, policy: Policy) -> list[Expected]:
    """Return the reminder and the ladder levels the triage deadline of an incident calls for."""
    triage = next((d for d in status.deadlines if d.name == "triage"), None)
    if triage is None:
        return []
    expected = [Expected(status.id, 0, triage.reminder_at)]
    due = triage.due
    for level, step in enumerate(policy.escalation, start=1):
        due = add_duration(due, step.after, policy.calendar)
        expected.append(Expected(status.id, level, due))
    return expected


def recorded_by_status(statuses: list[IncidentStatus]) -> dict[tuple[str, int], datetime]:
    """Return the workflow instant of each triage reminder and escalation, by incident and level."""
    return {
        (status.id, escalation.level): escalation.at
        for status in statuses
        for escalation in status.escalations
        if escalation.deadline == "triage"
    }


def recorded_by_email(outbox: Path, policy: Policy) -> dict[tuple[str, int], datetime]:
    """Return the Date header of each .eml file in the outbox, by incident and level."""
    levels = {step.name: level for level, step in enumerate(policy.escalation, start=1)}
    found = {}
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        kind = message["X-Irp-Kind"]
        if kind == "reminder":
            level = 0
        else:
            level = next((lvl for name, lvl in levels.items() if str(message["Subject"]).endswith(f"escalated to {name}")), None)
            if level is None:
                continue
        found[(str(message["X-Irp-Incident"]), level)] = parsedate_to_datetime(str(message["Date"]))
    return found


def summarize(
    incidents: int,
    concurrency: int,
    tolerance: float,
    intake_seconds: float,
    expected: list[Expected],
    recorded: dict[tuple[str, int], datetime],
    emailed: dict[tuple[str, int], datetime],
    worker_peak: int | None,
    server_peak: int | None,
) -> dict:
    """Compare recorded instants with due instants and build the result document."""
    status_lateness = [(recorded[(e.incident, e.level)] - e.due).total_seconds() for e in expected if (e.incident, e.level) in recorded]
    email_lateness = [(emailed[(e.incident, e.level)] - e.due).total_seconds() for e in expected if (e.incident, e.level) in emailed]
    missing = sum(1 for e in expected if (e.incident, e.level) not in recorded or (e.incident, e.level) not in emailed)
    late = sum(
        1
        for e in expected
        if (recorded.get((e.incident, e.level), e.due) - e.due).total_seconds() > tolerance
        or (emailed.get((e.incident, e.level), e.due) - e.due).total_seconds() > tolerance
    )
    by_level = {
        level: distribution(
            [(recorded[(e.incident, e.level)] - e.due).total_seconds() for e in expected if e.level == level and (e.incident, e.level) in recorded]
        )
        for level in sorted({e.level for e in expected})
    }
    return {
        "summary": {
            "incidents": incidents,
            "incidents_with_deadline": len({e.incident for e in expected}),
            "notifications_expected": incidents * 4,
            "missing": missing + (incidents * 4 - len(expected)),
            "late": late,
            "tolerance_seconds": tolerance,
            "status_lateness_seconds": distribution(status_lateness),
            "email_lateness_seconds": distribution(email_lateness),
            "intake_seconds": round(intake_seconds, 2),
            "intake_concurrency": concurrency,
            "worker_peak_rss_mib": round(worker_peak / 1024, 1) if worker_peak else None,
            "server_peak_rss_mib": round(server_peak / 1024, 1) if server_peak else None,
        },
        "status_lateness_by_level": by_level,
        "policy": POLICY,
        "machine": describe_machine(),
    }


def distribution(values: list[float]) -> dict:
    """Return count, min, p50, p95 and max of a list of seconds."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "min": round(ordered[0], 3),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def peak_memory_kib(pid: int) -> int | None:
    """Return a process's peak resident set size (VmHWM) in KiB, or None where /proc has no entry."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def write_results(result: dict, started: datetime) -> Path:
    """Write the result document and add its row to the results page."""
    summary = result["summary"]
    path = write_result("load", started, result)
    status, mail = summary["status_lateness_seconds"], summary["email_lateness_seconds"]
    row = [
        started.strftime("%Y-%m-%d %H:%M"),
        str(summary["incidents"]),
        str(summary["notifications_expected"]),
        str(summary["missing"]),
        f"{summary['late']} (> {summary['tolerance_seconds']:g} s)",
        f"{status.get('p50')} / {status.get('p95')} / {status.get('max')}",
        f"{mail.get('p50')} / {mail.get('p95')} / {mail.get('max')}",
        str(summary["intake_seconds"]),
        str(summary["worker_peak_rss_mib"]),
        str(result["machine"]["load_average_1m_at_start"]),
        short_machine(result["machine"]),
    ]
    append_row(RESULTS_TITLE, RESULT_COLUMNS, row, preface=RESULTS_PREFACE)
    return path


def cve_record(cve_id: str) -> dict:
    """Build a minimal published CVE JSON 5.1 record affecting a fictional package."""
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": cve_id,
            "assignerOrgId": "00000000-0000-4000-8000-000000000000",
            "state": "PUBLISHED",
            "datePublished": "2026-11-30T10:00:00.000Z",
        },
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
                "title": f"Load benchmark flaw {cve_id}",
                "descriptions": [{"lang": "en", "value": "A generated flaw in a fictional package, for the load benchmark."}],
                "affected": [
                    {
                        "vendor": "Example",
                        "product": "bench-widget",
                        "defaultStatus": "unaffected",
                        "versions": [{"version": "0", "lessThan": "1.0.0", "status": "affected", "versionType": "semver"}],
                    }
                ],
                "references": [{"url": "https://example.org/advisories/load-bench"}],
            }
        },
    }


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
