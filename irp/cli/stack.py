"""`irp up`, `irp server` and `irp worker`: run the stack, whole or in parts."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import Client
from temporalio.worker import Worker

import worker as worker_entry
from irp import stack
from irp.audit.schedule import ensure_archive_schedule
from irp.cli.common import console, fail
from irp.client import connect
from irp.codec import CodecError, build_codec, codec_enabled
from irp.codec_server import (
    TOKEN_VARIABLE,
    CodecServer,
    CodecServerError,
    codec_port,
    load_token,
    token_location,
    ui_endpoint,
    ui_origins,
)
from irp.db import create_schema, engine_for
from irp.intake import expand_paths, intake_file
from irp.inventory import InvalidInventory, list_streams, load_sbom
from irp.logs import configure_logging
from irp.policy import InvalidPolicy, load_policy
from irp.settings import Settings, load_settings
from irp.telemetry import TelemetryError, build_runtime, metrics_address

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_MARKER = "demo-loaded"

log = logging.getLogger(__name__)


def up(
    demo: Annotated[bool, typer.Option(help="Load the demo inventory and reports on the first run.")] = True,
) -> None:
    """Run the embedded dev server, the worker and the demo; Ctrl-C stops everything."""
    _configure_logging()
    settings = load_settings()
    try:
        load_policy(settings.policy_file)
        asyncio.run(_run_stack(settings, demo))
    except (stack.StackError, InvalidPolicy) as error:
        fail(str(error))


def server() -> None:
    """Run the embedded Temporal dev server alone, in the foreground."""
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        codec_endpoint = _ui_codec_endpoint(settings)
        command = stack.dev_server_command(settings, codec_endpoint)
    except (stack.StackError, CodecError, CodecServerError) as error:
        fail(str(error))
    console.print(f"Temporal UI: http://127.0.0.1:{settings.ui_port}", markup=False, highlight=False)
    if codec_endpoint is not None:
        console.print(f"Codec:       the UI decodes through `irp codec-server` on port {codec_port()}", markup=False, highlight=False)
    process = subprocess.Popen(command)
    # Forward SIGTERM so the dev server stops with this command instead of outliving it.
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        raise typer.Exit(process.wait())
    except KeyboardInterrupt:
        process.wait()
        raise typer.Exit(0) from None


def worker() -> None:
    """Run a worker alone against TEMPORAL_ADDRESS."""
    worker_entry.main()


async def _run_stack(settings: Settings, demo: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)

    stack.check_ports_free(settings)
    with _codec_server(settings) as codec_server:
        server_process = stack.start_dev_server(settings, codec_server and codec_server.ui_endpoint)
        running_worker: Worker | None = None
        try:
            client = await stack.wait_for_server(settings, server_process)
            await stack.keep_histories(client, settings.temporal_namespace)
            running_worker = await _build_worker(client, settings)
            worker_task = asyncio.create_task(running_worker.run())
            await ensure_archive_schedule(client, settings)
            if demo:
                await _load_demo(client, settings)

            console.print(f"Temporal UI: http://127.0.0.1:{settings.ui_port}", markup=False, highlight=False)
            _print_codec(settings, codec_server)
            console.print(f"Temporal:    {settings.temporal_address} (namespace {settings.temporal_namespace})", markup=False, highlight=False)
            console.print(f"State:       {settings.home}", markup=False, highlight=False)
            console.print("Press Ctrl-C to stop.")

            await _wait_for_stop(stop, worker_task, server_process)
            console.print("stopping the worker, the Temporal dev server and the codec server")
        finally:
            # The worker stops first, also when the server died, so nothing keeps polling.
            if running_worker is not None:
                await running_worker.shutdown()
            stack.stop_dev_server(server_process)


async def _build_worker(client: Client, settings: Settings) -> Worker:
    """Build the worker with the stop grace period, on a client serving Prometheus metrics when IRP_METRICS_PORT is set."""
    try:
        grace = worker_entry.shutdown_timeout()
        address = metrics_address()
        worker_client = await connect(settings, runtime=build_runtime(address)) if address else client
    except (worker_entry.InvalidShutdownTimeout, TelemetryError) as error:
        raise stack.StackError(str(error)) from None
    if address:
        log.info("serving Prometheus metrics on http://%s/metrics", address)
    return worker_entry.build_worker(worker_client, settings, graceful_shutdown_timeout=grace)


def _codec_server(settings: Settings) -> AbstractContextManager[CodecServer | None]:
    """Build the codec server for the UI and the CLIs, or an empty context when IRP_CODEC=off."""
    try:
        if not codec_enabled():
            return nullcontext()
        return CodecServer(build_codec(settings), load_token(settings), ui_origins(settings), codec_port())
    except (CodecError, CodecServerError) as error:
        raise stack.StackError(str(error)) from None


def _ui_codec_endpoint(settings: Settings) -> str | None:
    """Return the codec endpoint that `irp codec-server` serves for the UI, or None when IRP_CODEC=off."""
    if not codec_enabled():
        return None
    return ui_endpoint(codec_port(), load_token(settings))


def _print_codec(settings: Settings, codec_server: CodecServer | None) -> None:
    """Print where the codec server listens and how the `temporal` CLI reads encrypted payloads."""
    if codec_server is None:
        console.print("Codec:       off (IRP_CODEC=off), payloads are stored in plaintext", markup=False, highlight=False)
        return
    location = token_location(settings)
    token = f"${location}" if location == TOKEN_VARIABLE else f"$(cat {location})"
    console.print(f"Codec:       {codec_server.endpoint} (bearer token in {location})", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f'             temporal workflow show --detailed --workflow-id ID --codec-endpoint {codec_server.endpoint} --codec-auth "Bearer {token}"',
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


async def _wait_for_stop(stop: asyncio.Event, worker_task: asyncio.Task, server_process: subprocess.Popen) -> None:
    """Wait for Ctrl-C or SIGTERM; stop early if the worker or the server dies."""
    while not stop.is_set():
        if worker_task.done():
            error = worker_task.exception()
            raise stack.StackError(f"the worker stopped: {error}")
        if server_process.poll() is not None:
            raise stack.StackError(f"the Temporal dev server exited with code {server_process.returncode}")
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


async def _load_demo(client, settings: Settings) -> None:
    """Load the demo inventory and reports once per IRP_HOME."""
    marker = settings.home / DEMO_MARKER
    if marker.exists():
        return
    create_schema(engine_for(settings.database_url))
    if not list_streams(settings.database_url):
        for path in sorted((DEMO_DIR / "inventory").glob("*")):
            try:
                load_sbom(settings.database_url, path)
            except InvalidInventory as error:
                log.error("demo inventory %s was not loaded: %s", path, error)
    for path in expand_paths([DEMO_DIR / "reports"]):
        result = await intake_file(client, settings, path)
        console.print(f"demo {path.name}: {result.action} {result.incident or result.error}", markup=False, highlight=False)
    marker.write_text("the demo inventory and reports were loaded\n")


def _configure_logging() -> None:
    configure_logging()
    logging.getLogger("temporalio").setLevel(logging.WARNING)
