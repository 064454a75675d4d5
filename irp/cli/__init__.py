"""The `irp` command-line tool."""

from __future__ import annotations

import os
import sys

import typer

from irp.cli import codec, csaf, db, incidents, inventory, policy, stack

app = typer.Typer(
    name="irp",
    help="Run a PSIRT incident response plan as durable Temporal workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(inventory.app, name="inventory")
app.add_typer(policy.app, name="policy")
app.add_typer(db.app, name="db")
app.add_typer(csaf.app, name="csaf")
app.command()(stack.up)
app.command()(stack.server)
app.command()(stack.worker)
app.command(name="codec-server")(codec.codec_server)
app.command()(incidents.intake)
app.command(name="list")(incidents.list_incidents)
app.command()(incidents.show)
app.command()(incidents.decide)


def main() -> None:
    """Run the `irp` command and exit without interpreter finalization."""
    code = 0
    try:
        app()
    except SystemExit as exit_request:
        code = _exit_code(exit_request)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    # Temporal's native client threads can crash the interpreter while it finalizes
    # ("PyGILState_Release", temporalio/sdk-python#300), so skip finalization.
    os._exit(code)


def _exit_code(exit_request: SystemExit) -> int:
    if exit_request.code is None:
        return 0
    if isinstance(exit_request.code, int):
        return exit_request.code
    print(exit_request.code, file=sys.stderr)
    return 1
