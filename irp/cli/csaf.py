"""`irp csaf`: validate CSAF 2.0 documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from irp.cli.common import print_json
from irp.csaf.validate import validate_file

app = typer.Typer(no_args_is_help=True)


@app.callback()
def csaf_group() -> None:
    """Work with CSAF 2.0 documents."""


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="CSAF 2.0 JSON documents to validate.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one result object per file as a JSON array.")
    ] = False,
) -> None:
    """Validate FILES against the CSAF 2.0 schema and mandatory tests; exit 1 if any is invalid."""
    results = [validate_file(file) for file in files]

    if as_json:
        print_json([result.as_dict() for result in results])
    else:
        for result in results:
            for failure in result.failures:
                typer.echo(f"{result.file}: {failure.test} {failure.path}: {failure.message}")
            typer.echo(f"{result.file}: {'valid' if result.valid else 'invalid'}")

    if not all(result.valid for result in results):
        raise typer.Exit(1)
