"""The `irp` command-line tool."""

from __future__ import annotations

import os
import sys

import typer
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from irp.cli import codec, csaf, db, feed, incidents, inventory, policy, stack
from irp.cli.audit import app as audit_app
from irp.settings import InvalidSettings

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
app.add_typer(feed.app, name="feed")
app.add_typer(audit_app, name="audit")
app.command()(stack.up)
app.command()(stack.server)
app.command()(stack.worker)
app.command(name="codec-server")(codec.codec_server)
app.command()(incidents.intake)
app.command()(incidents.new)
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
    except InvalidSettings as error:
        print(f"error: {error}", file=sys.stderr)
        code = 1
    except (ArgumentError, NoSuchModuleError, OperationalError) as error:
        print(f"error: the irp database is unusable ({type(error).__name__}): {error.args[0] if error.args else error}; "
              "check IRP_DATABASE_URL", file=sys.stderr)
        code = 1
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
