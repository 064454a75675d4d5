"""`irp inventory`: load and list the product inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from irp.inventory import InvalidInventory, MissingStreamName, list_streams, load_inventory
from irp.settings import load_settings

app = typer.Typer(help="Load and list the product inventory.", no_args_is_help=True)


@app.command("load")
def load_command(
    file: Annotated[
        Path, typer.Argument(help="CycloneDX JSON SBOM or YAML manifest, detected from the content.")
    ],
    product: Annotated[
        str | None,
        typer.Option(help="Product name. Required for an SBOM, and overrides a manifest's product."),
    ] = None,
    stream: Annotated[
        str | None,
        typer.Option(help="Stream (release line) name. Required for an SBOM, and overrides a manifest's stream."),
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Engineering owner of the stream. Kept unchanged if not given.")
    ] = None,
    compliance_priority: Annotated[
        bool | None,
        typer.Option(
            "--compliance-priority/--no-compliance-priority",
            help="Mark the stream as subject to compliance deadlines. Kept unchanged if not given.",
        ),
    ] = None,
) -> None:
    """Replace a stream's components with those listed in FILE."""
    settings = load_settings()
    try:
        inventory = load_inventory(
            settings.database_url,
            file,
            product=product,
            stream=stream,
            owner=owner,
            compliance_priority=compliance_priority,
        )
    except MissingStreamName as error:
        typer.echo(f"error: {error}. Pass --product and --stream.", err=True)
        raise typer.Exit(1) from None
    except InvalidInventory as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None

    count = len(inventory.components)
    typer.echo(f"loaded {count} components into {inventory.product}/{inventory.stream}")
    if count == 0:
        typer.echo(
            f"warning: {file} lists no components, so every record will be `unknown` for this stream",
            err=True,
        )


@app.command("list")
def list_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every stream with its components as JSON.")
    ] = False,
) -> None:
    """List products, their streams and how many components each ships."""
    streams = list_streams(load_settings().database_url)

    if as_json:
        document = [
            {
                "product": inventory.product,
                "stream": inventory.stream,
                "owner": inventory.owner,
                "compliance_priority": inventory.compliance_priority,
                "components": [
                    {"name": component.name, "version": component.version, "purl": component.purl}
                    for component in inventory.components
                ],
            }
            for inventory in streams
        ]
        typer.echo(json.dumps(document, indent=2))
        return

    if not streams:
        typer.echo("the inventory is empty; load a stream with `irp inventory load FILE`")
        return

    table = Table(title="Inventory")
    table.add_column("Product")
    table.add_column("Stream")
    table.add_column("Owner", overflow="fold")
    table.add_column("Compliance priority")
    table.add_column("Components", justify="right")
    for inventory in streams:
        table.add_row(
            escape(inventory.product),
            escape(inventory.stream),
            escape(inventory.owner or ""),
            "yes" if inventory.compliance_priority else "no",
            str(len(inventory.components)),
        )
    Console().print(table)
