"""Benchmark intake and triage: parsing and matching alone, incident starts against plain starts, memory, accuracy.

Run `make bench`, or `.venv/bin/python bench/intake_bench.py --help` for the options.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.generate import cyclonedx, make_packages, make_records, make_streams
from bench.labelled_cases import CASES, verdict_for
from bench.report import append_row, describe_machine, short_machine, write_result
from bench.trivial import TrivialWorkflow
from irp.codec import build_data_converter, codec_enabled
from irp.db import create_schema, engine_for
from irp.intake import deliver, incident_id_for, read_source
from irp.inventory import load_sbom
from irp.matching import match_affects
from irp.settings import Settings
from irp.sources import parse_report
from irp.stack import dev_server_command, stop_dev_server
from models.incident import IncidentStatus
from models.inventory import StreamInventory
from models.records import AffectStatus
from worker import build_worker

log = logging.getLogger("intake_bench")

TARGET_RATIO = 0.5
WARM_UP_STARTS = 50
ROUNDS = 4
MEMORY_MATCH_RECORDS = 10
SERVER_START_TIMEOUT = 60.0
TRIAGE_TIMEOUT = 120.0
TRIVIAL_QUEUE = "irp-bench-trivial"
RESULT_COLUMNS = [
    "date (UTC)", "records K", "components M", "parse rec/s", "match rec/s (sample)",
    "intake starts/s", "plain starts/s", "ratio", "tracemalloc peak MiB", "max RSS MiB",
    "labelled right", "wrong not_affected", "codec", "machine",
]


def parse_arguments() -> argparse.Namespace:
    """Read the options; each defaults to an `IRP_BENCH_*` variable, then to a built-in value."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    option = _option_adder(parser)
    option("--records", "IRP_BENCH_RECORDS", 2000, "records K to generate, parse and deliver")
    option("--components", "IRP_BENCH_COMPONENTS", 5000, "inventory components M")
    option("--streams", "IRP_BENCH_STREAMS", 10, "product streams the components are spread over")
    option("--match-records", "IRP_BENCH_MATCH_RECORDS", 100, "records matched against the whole inventory; 0 for all K")
    option("--concurrency", "IRP_BENCH_CONCURRENCY", 50, "starts in flight at once in the Temporal loops")
    option("--seed", "IRP_BENCH_SEED", 1, "random seed of the generated inventory and records")
    parser.add_argument("--no-record", action="store_true", help="print the results without writing results/ or RESULTS.md")
    return parser.parse_args()


def _option_adder(parser: argparse.ArgumentParser) -> Callable[[str, str, int, str], None]:
    def add(flag: str, variable: str, default: int, help_text: str) -> None:
        value = int(os.environ.get(variable, default))
        parser.add_argument(flag, type=int, default=value, help=f"{help_text} (env {variable}, default {default})")

    return add


def main() -> None:
    """Run every phase, then write and print the results."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    arguments = parse_arguments()
    started = datetime.now(UTC)

    generator = random.Random(arguments.seed)
    packages = make_packages(arguments.components, generator)
    streams = make_streams(packages, arguments.streams)
    records = make_records(arguments.records + 1, packages, generator)
    log.info("generated %d components in %d streams and %d records", arguments.components, arguments.streams, arguments.records)

    result: dict[str, Any] = {
        "benchmark": "intake",
        "started_at": started.isoformat(),
        "parameters": vars(arguments),
        "machine": describe_machine(),
    }
    result["parse_match"] = measure_parse_match(records[: arguments.records], streams, arguments.match_records)
    result["memory"] = measure_memory(records[: arguments.records], streams)
    result["accuracy"] = measure_accuracy()
    with tempfile.TemporaryDirectory(prefix="irp-bench-") as home:
        result["temporal"] = asyncio.run(measure_temporal(Path(home), streams, records, arguments.concurrency))
    result["memory"]["bench_max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    print(json.dumps(result, indent=2, default=str))
    if not arguments.no_record:
        path = write_result("intake", started, result)
        append_row("Intake benchmark results", RESULT_COLUMNS, _row(started, result), preface=RESULTS_PREFACE)
        log.info("results written to %s and bench/RESULTS.md", path)


RESULTS_PREFACE = (
    "`make bench` (bench/intake_bench.py); see bench/README.md for what each number means."
    " Starts are measured with no worker polling, both loops on the same dev server and with the same data converter."
)


def measure_parse_match(records: list[bytes], streams: list[StreamInventory], match_records: int) -> dict[str, Any]:
    """Time parsing every record, then matching a sample against the whole inventory."""
    began = time.perf_counter()
    reports = [parse_report(data, f"record-{index}") for index, data in enumerate(records)]
    parse_seconds = time.perf_counter() - began

    sample = reports if match_records <= 0 else reports[:match_records]
    counts = {status.value: 0 for status in AffectStatus}
    began = time.perf_counter()
    for report in sample:
        for affect in match_affects(report, streams):
            counts[affect.status.value] += 1
    match_seconds = time.perf_counter() - began

    components = sum(len(stream.components) for stream in streams)
    log.info("parsed %d records in %.2f s, matched %d in %.2f s", len(reports), parse_seconds, len(sample), match_seconds)
    return {
        "records_parsed": len(reports),
        "parse_seconds": round(parse_seconds, 3),
        "parse_records_per_second": round(len(reports) / parse_seconds, 1),
        "records_matched": len(sample),
        "components": components,
        "streams": len(streams),
        "match_seconds": round(match_seconds, 3),
        "match_records_per_second": round(len(sample) / match_seconds, 2),
        "parse_and_match_records_per_second": round(1 / (parse_seconds / len(reports) + match_seconds / len(sample)), 2),
        "stream_verdicts": counts,
    }


def measure_memory(records: list[bytes], streams: list[StreamInventory]) -> dict[str, Any]:
    """Measure the peak Python allocation of holding every parsed record while matching a few, apart from the timing."""
    tracemalloc.start()
    reports = [parse_report(data, f"record-{index}") for index, data in enumerate(records)]
    # What one match allocates is freed before the next, so a few records find the peak.
    for report in reports[:MEMORY_MATCH_RECORDS]:
        match_affects(report, streams)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"parse_match_tracemalloc_peak_mib": round(peak / 1024 / 1024, 1), "memory_records_matched": MEMORY_MATCH_RECORDS}


def measure_accuracy() -> dict[str, Any]:
    """Score automatic triage against the hand-labelled cases."""
    wrong = []
    for case in CASES:
        verdict = verdict_for(case)
        if verdict is not case.expected:
            wrong.append({"case": case.name, "expected": case.expected.value, "verdict": verdict.value})
    return {
        "cases": len(CASES),
        "right": len(CASES) - len(wrong),
        "percent_right": round(100 * (len(CASES) - len(wrong)) / len(CASES), 1),
        "wrong_not_affected": sum(1 for item in wrong if item["verdict"] == AffectStatus.not_affected.value),
        "wrong": wrong,
    }


async def measure_temporal(home: Path, streams: list[StreamInventory], records: list[bytes], concurrency: int) -> dict[str, Any]:
    """Start a dev server, check one incident end to end, then time intake starts against plain starts."""
    settings = _bench_settings(home)
    _load_inventory(settings, streams)
    sources = _read_sources(home, records)

    server = _start_server(settings)
    try:
        client = await _connect(settings, server)
        outcome: dict[str, Any] = {
            "codec": "AES-256-GCM payload codec (irp's converter), both loops" if codec_enabled() else "none (IRP_CODEC=off), both loops",
            "concurrency": concurrency,
            "triage_check": await _check_one_incident(client, settings, sources[-1]),
        }
        timed = sources[:-1]

        await _run_bounded([_plain_start(client, f"warm-up-{index}") for index in range(WARM_UP_STARTS)], concurrency)
        plain, intake = Timings(), Timings()
        # Alternating rounds keep the server's growing database from favouring whichever loop runs first.
        for round_number in range(ROUNDS):
            batch = range(round_number, len(timed), ROUNDS)
            plain.add(await _run_bounded([_plain_start(client, f"plain-{index}") for index in batch], concurrency))
            intake.add(await _run_bounded([_deliver(client, settings, timed[index]) for index in batch], concurrency))
        outcome["plain"], outcome["intake"] = plain.summary(), intake.summary()
        outcome["ratio"] = round(outcome["intake"]["per_second"] / outcome["plain"]["per_second"], 3)
        outcome["target_ratio"] = TARGET_RATIO
        outcome["server_peak_rss_mib"] = _peak_rss_mib(server.pid)
        log.info(
            "intake %.1f starts/s, plain %.1f starts/s, ratio %.2f (target %.1f)",
            outcome["intake"]["per_second"], outcome["plain"]["per_second"], outcome["ratio"], TARGET_RATIO,
        )
        return outcome
    finally:
        stop_dev_server(server)


def _bench_settings(home: Path) -> Settings:
    """Build settings for a dev server on free ports with its state in a temporary folder."""
    return Settings(
        home=home,
        database_url=f"sqlite:///{home / 'irp.db'}",
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_namespace="default",
        ui_port=free_port(),
        task_queue="irp-bench",
    )


def _load_inventory(settings: Settings, streams: list[StreamInventory]) -> None:
    """Load each generated stream as a CycloneDX SBOM, the way `irp inventory load` does."""
    create_schema(engine_for(settings.database_url))
    for index, stream in enumerate(streams):
        path = settings.home / f"stream-{index}.cdx.json"
        path.write_text(json.dumps(cyclonedx(stream)), encoding="utf-8")
        load_sbom(settings.database_url, path, product=stream.product, stream=stream.stream)


def _read_sources(home: Path, records: list[bytes]) -> list:
    """Write the records to files and read them back as intake does, outside the timed loops."""
    folder = home / "records"
    folder.mkdir()
    sources = []
    for index, data in enumerate(records):
        path = folder / f"record-{index}.json"
        path.write_bytes(data)
        sources.append(read_source(path, datetime.now(UTC)))
    return sources


def _start_server(settings: Settings) -> subprocess.Popen:
    """Start `temporal server start-dev` headless on the settings' port, with irp's SQLite pragmas."""
    command = [*dev_server_command(settings), "--headless"]
    log_file = (settings.home / "temporal-server.log").open("ab")
    log.info("starting the dev server on %s", settings.temporal_address)
    return subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


async def _connect(settings: Settings, server: subprocess.Popen) -> Client:
    """Connect with irp's data converter once the server accepts connections."""
    data_converter = build_data_converter(settings) if codec_enabled() else pydantic_data_converter
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the dev server exited with code {server.returncode}; see {settings.home / 'temporal-server.log'}")
        try:
            client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace, data_converter=data_converter)
            await client.count_workflows()
            return client
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


async def _check_one_incident(client: Client, settings: Settings, source) -> dict[str, Any]:
    """Run the worker, start one trivial workflow and one incident, and time the incident's triage."""
    trivial_worker = Worker(client, task_queue=TRIVIAL_QUEUE, workflows=[TrivialWorkflow])
    async with build_worker(client, settings), trivial_worker:
        echoed = await client.execute_workflow(TrivialWorkflow.run, "check", id="bench-trivial-check", task_queue=TRIVIAL_QUEUE)
        assert echoed == "check", f"the trivial workflow returned {echoed!r}"

        began = time.perf_counter()
        await deliver(client, settings, source)
        handle = client.get_workflow_handle(incident_id_for(source.report))
        while True:
            status = await handle.query("status", result_type=IncidentStatus)
            if status.matched:
                break
            if time.perf_counter() - began > TRIAGE_TIMEOUT:
                raise RuntimeError(f"incident {handle.id} was not triaged within {TRIAGE_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - began
    return {
        "incident": handle.id,
        "seconds_to_triaged": round(seconds, 2),
        "stream_verdicts": dict(Counter(affect.status.value for affect in status.affects)),
    }


async def _plain_start(client: Client, name: str) -> None:
    await client.start_workflow(TrivialWorkflow.run, name, id=f"bench-{name}", task_queue=TRIVIAL_QUEUE)


async def _deliver(client: Client, settings: Settings, source) -> None:
    await deliver(client, settings, source)


async def _run_bounded(calls: list[Awaitable[None]], concurrency: int) -> Timings:
    """Await every call with at most `concurrency` in flight, timing each and counting errors by type."""
    gate = asyncio.Semaphore(concurrency)
    timings = Timings()

    async def timed(call: Awaitable[None]) -> None:
        async with gate:
            began = time.perf_counter()
            try:
                await call
            except Exception as error:  # counted and reported: one failed start must not end the run
                timings.errors[type(error).__name__] = timings.errors.get(type(error).__name__, 0) + 1
                return
            timings.latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(timed(call) for call in calls))
    timings.seconds = time.perf_counter() - began
    return timings


@dataclass
class Timings:
    """Latencies, errors and wall time of one or more bounded loops."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, other: Timings) -> None:
        """Add another loop's timings to these."""
        self.latencies += other.latencies
        for name, count in other.errors.items():
            self.errors[name] = self.errors.get(name, 0) + count
        self.seconds += other.seconds

    def summary(self) -> dict[str, Any]:
        """Return the count, rate and latency percentiles."""
        latencies = sorted(self.latencies)
        return {
            "succeeded": len(latencies),
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "per_second": round(len(latencies) / self.seconds, 1) if self.seconds else None,
            "latency_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "latency_p95_ms": round(1000 * statistics.quantiles(latencies, n=20)[-1], 1) if len(latencies) >= 20 else None,
        }


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _peak_rss_mib(pid: int) -> float | None:
    """Return a process's peak resident memory (VmHWM) from /proc, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _row(started: datetime, result: dict[str, Any]) -> list[str]:
    """Build the RESULTS.md row of a run."""
    parameters, parse_match, temporal = result["parameters"], result["parse_match"], result["temporal"]
    accuracy, memory = result["accuracy"], result["memory"]
    return [
        started.strftime("%Y-%m-%d %H:%M"),
        str(parameters["records"]),
        str(parameters["components"]),
        str(parse_match["parse_records_per_second"]),
        f"{parse_match['match_records_per_second']} ({parse_match['records_matched']})",
        str(temporal["intake"]["per_second"]),
        str(temporal["plain"]["per_second"]),
        str(temporal["ratio"]),
        str(memory["parse_match_tracemalloc_peak_mib"]),
        str(memory["bench_max_rss_mib"]),
        f"{accuracy['right']}/{accuracy['cases']} ({accuracy['percent_right']} %)",
        str(accuracy["wrong_not_affected"]),
        "AES-256-GCM" if codec_enabled() else "off",
        short_machine(result["machine"]),
    ]


if __name__ == "__main__":
    main()
