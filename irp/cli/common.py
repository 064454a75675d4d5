"""Helpers that every `irp` command shares: settings, the client, output, exits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from temporalio.client import Client
from temporalio.service import RPCError

from irp.client import connect
from irp.codec import CodecError
from irp.settings import Settings, load_settings

T = TypeVar("T")

console = Console()
errors = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error on stderr and exit with the code: 1 for a failure, 2 for a usage error."""
    errors.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    """Print a JSON document on stdout, without rich markup."""
    typer.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def run_with_client(work: Callable[[Client, Settings], Awaitable[T]]) -> T:
    """Connect to Temporal and run one command's work, failing clearly when it is down."""
    settings = load_settings()

    async def connected() -> T:
        try:
            client = await connect(settings)
        except RuntimeError as error:
            fail(f"cannot reach Temporal at {settings.temporal_address} ({error}); is `irp up` running?")
        return await work(client, settings)

    try:
        return asyncio.run(connected())
    except CodecError as error:
        fail(str(error))
    except RPCError as error:
        fail(f"Temporal at {settings.temporal_address} failed the request: {error.message}")
