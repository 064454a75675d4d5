"""Run the irp worker: `python worker.py` or `irp worker`."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.archive import ArchiveActivities
from activities.feed import FeedActivities
from activities.incident import IncidentActivities
from activities.publication import PublicationActivities
from irp.client import connect
from irp.db import create_schema, engine_for
from irp.logs import configure_logging
from irp.policy import InvalidPolicy, load_policy
from irp.codec import CodecError
from irp.settings import InvalidSettings, Settings, load_settings
from irp.telemetry import TelemetryError, build_runtime, metrics_address
from workflows.archive import ArchiveWorkflow
from workflows.feed import FeedWorkflow
from workflows.incident import IncidentWorkflow

ACTIVITY_THREADS = 16
SHUTDOWN_TIMEOUT_VARIABLE = "IRP_SHUTDOWN_TIMEOUT"
DEFAULT_SHUTDOWN_TIMEOUT = 30.0
"""Seconds that running activities get to finish after SIGTERM or Ctrl-C before they are cancelled."""

log = logging.getLogger("irp.worker")


class InvalidShutdownTimeout(ValueError):
    """IRP_SHUTDOWN_TIMEOUT is not a number of seconds."""


def shutdown_timeout(environ: Mapping[str, str] = os.environ) -> timedelta:
    """Return the grace period of a stopping worker from IRP_SHUTDOWN_TIMEOUT, in seconds."""
    text = environ.get(SHUTDOWN_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return timedelta(seconds=DEFAULT_SHUTDOWN_TIMEOUT)
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise InvalidShutdownTimeout(f"{SHUTDOWN_TIMEOUT_VARIABLE} `{text[:40]}` is not a number of seconds from 0 to 86400")
    return timedelta(seconds=seconds)


def build_worker(client: Client, settings: Settings, **options) -> Worker:
    """Build a worker for the incident workflow and its activities; refuse an invalid policy."""
    load_policy(settings.policy_file)
    create_schema(engine_for(settings.database_url))
    settings.outputs_dir.mkdir(parents=True, exist_ok=True)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[IncidentWorkflow, FeedWorkflow, ArchiveWorkflow],
        activities=IncidentActivities(settings).all()
        + PublicationActivities(settings).all()
        + FeedActivities(client, settings).all()
        + ArchiveActivities(client, settings).all(),
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS),
        **options,
    )


async def run_worker(settings: Settings) -> None:
    """Connect to Temporal and poll the task queue until SIGTERM or SIGINT, then stop gracefully."""
    stop = _stop_on_signals()
    grace = shutdown_timeout()
    address = metrics_address()
    client = await connect(settings, runtime=build_runtime(address) if address else None)
    worker = build_worker(client, settings, graceful_shutdown_timeout=grace)

    log.info("worker polling %s on %s/%s", settings.task_queue, settings.temporal_address, settings.temporal_namespace)
    if address:
        log.info("serving Prometheus metrics on http://%s/metrics", address)
    polling = asyncio.create_task(worker.run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([polling, stopping], return_when=asyncio.FIRST_COMPLETED)

    if stop.is_set():
        log.info("stopping the worker: no new tasks, running activities get %.0f s to finish", grace.total_seconds())
        await worker.shutdown()
    stopping.cancel()
    await polling
    log.info("worker stopped")


def _stop_on_signals() -> asyncio.Event:
    """Return an event that SIGTERM and SIGINT set."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, _request_stop, stop, signal_number)
    return stop


def _request_stop(stop: asyncio.Event, signal_number: signal.Signals) -> None:
    log.info("received %s", signal_number.name)
    stop.set()


def main() -> None:
    """Run the worker until SIGTERM or SIGINT."""
    configure_logging()
    try:
        asyncio.run(run_worker(load_settings()))
    except (InvalidPolicy, InvalidShutdownTimeout, TelemetryError, InvalidSettings, CodecError) as error:
        log.error("the worker does not start: %s", error)
        raise SystemExit(1) from None
    except RuntimeError as error:
        # The Temporal client raises RuntimeError when it cannot connect.
        log.error("the worker does not start: cannot reach Temporal (%s); is the server running?", error)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
