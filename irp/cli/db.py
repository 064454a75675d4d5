"""`irp db`: migrate irp's own database and show its schema revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from irp.cli.common import fail
from irp.db import SchemaError, current_revision, head_revision, open_engine, safe_url, upgrade_schema
from irp.settings import load_settings

T = TypeVar("T")

app = typer.Typer(help="Migrate irp's inventory and tracker database (IRP_DATABASE_URL).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Bring the database to the newest schema revision, safely while workers run."""
    revision = with_engine(upgrade_and_read)
    typer.echo(f"database at revision {revision} (newest)")


@app.command("current")
def current_command() -> None:
    """Print the database's schema revision and whether it is the newest, exiting 1 when it is behind."""
    revision = with_engine(current_revision)
    head = head_revision()
    if revision == head:
        typer.echo(f"database at revision {revision} (newest)")
        return
    revision_text = revision or "none (never migrated)"
    typer.echo(f"database at revision {revision_text}, but the newest is {head}: run `irp db upgrade`")
    raise typer.Exit(1)


def upgrade_and_read(engine: Engine) -> str | None:
    """Upgrade the database to the newest revision and return the revision it is then at."""
    upgrade_schema(engine)
    return current_revision(engine)


def with_engine(work: Callable[[Engine], T]) -> T:
    """Run work on an engine for IRP_DATABASE_URL, turning database errors into a clear exit."""
    engine = open_engine(load_settings().database_url)
    try:
        return work(engine)
    except SchemaError as error:
        fail(f"{safe_url(engine)}: {error}")
    except SQLAlchemyError as error:
        fail(f"{safe_url(engine)} failed: {getattr(error, 'orig', None) or error}")
    finally:
        engine.dispose()
