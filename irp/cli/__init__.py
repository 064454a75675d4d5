"""The `irp` command-line tool."""

from __future__ import annotations

import typer

from irp.cli import incidents, inventory, stack

app = typer.Typer(
    name="irp",
    help="Run a PSIRT incident response plan as durable Temporal workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(inventory.app, name="inventory")
app.command()(stack.up)
app.command()(stack.server)
app.command()(stack.worker)
app.command()(incidents.intake)
app.command(name="list")(incidents.list_incidents)
app.command()(incidents.show)
app.command()(incidents.decide)


def main() -> None:
    """Run the `irp` command."""
    app()
