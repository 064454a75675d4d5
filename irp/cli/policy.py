"""`irp policy check` and `irp policy show`: validate and print the policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from irp.cli.common import fail, print_json
from irp.policy import InvalidPolicy, load_policy
from irp.settings import load_settings

app = typer.Typer(help="Check and show the policy: deadlines, calendar, escalation, embargo.", no_args_is_help=True)


@app.command()
def check(file: Annotated[Path, typer.Argument(help="Policy YAML file to check.")]) -> None:
    """Check a policy file; print each bad key, its value and what is expected."""
    try:
        policy = load_policy(file)
    except InvalidPolicy as error:
        for problem in error.problems:
            typer.echo(f"{file}: {problem}")
        fail(f"{file} is not a valid policy ({len(error.problems)} problem(s))")
    typer.echo(f"{file}: valid policy, version {policy.version}")


@app.command()
def show(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")] = False) -> None:
    """Print the policy in force: the file named by IRP_POLICY, else the built-in defaults."""
    settings = load_settings()
    try:
        policy = load_policy(settings.policy_file)
    except InvalidPolicy as error:
        fail(str(error))
    document = policy.model_dump(mode="json")
    document["source"] = str(settings.policy_file) if settings.policy_file else "built-in defaults"
    if as_json:
        print_json(document)
    else:
        typer.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
