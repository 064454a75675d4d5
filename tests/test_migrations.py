"""Tests for irp's schema migrations on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import subprocess

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel
from typer.testing import CliRunner

import models.inventory  # noqa: F401 - registers the inventory tables
import models.tracking  # noqa: F401 - registers the tracker and report tables
from irp.cli import app
from irp.db import (
    INITIAL_TABLES,
    SchemaError,
    current_revision,
    head_revision,
    migration_config,
    open_engine,
    session_scope,
    upgrade_schema,
)
from models.inventory import Product
from tests.conftest import BIN
from tests.db_fixtures import database_url  # noqa: F401 - pytest fixture


@pytest.fixture
def engine(database_url) -> Engine:
    """Return an engine on the test's empty database that has not migrated it."""
    created = open_engine(database_url)
    yield created
    created.dispose()


def schema_differences(engine: Engine) -> list:
    """Return what autogenerate finds between the database and the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def table_names(engine: Engine) -> set[str]:
    """Return the tables of the database's default schema (the test's own on PostgreSQL)."""
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_upgrade_matches_models(engine):
    upgrade_schema(engine)

    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []


def test_comparison_finds_missing_index(engine):
    upgrade_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_tracker_incident_id"))

    differences = schema_differences(engine)

    assert [difference[0] for difference in differences] == ["add_index"]
    assert differences[0][1].name == "ix_tracker_incident_id"


def test_version_table_in_own_schema(engine):
    upgrade_schema(engine)

    assert "alembic_version" in table_names(engine)
    assert INITIAL_TABLES <= table_names(engine)


def test_upgrade_twice_changes_nothing(database_url, engine):
    upgrade_schema(engine)
    with session_scope(database_url) as session:
        session.add(Product(name="Widget Server"))

    upgrade_schema(engine)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert connection.execute(text("SELECT name FROM product")).scalars().all() == ["Widget Server"]


def test_create_all_database_stamped(engine):
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        # Databases made by create_all before alembic had the tables of revision 0001 only.
        connection.execute(text("ALTER TABLE tracker DROP COLUMN public"))
        connection.execute(text("INSERT INTO product (name) VALUES ('Widget Server')"))

    upgrade_schema(engine)

    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM product")).scalars().all() == ["Widget Server"]


def test_partial_tables_rejected(engine):
    SQLModel.metadata.tables["product"].create(engine)

    with pytest.raises(SchemaError, match="component, report, stream, tracker"):
        upgrade_schema(engine)

    assert current_revision(engine) is None


def test_downgrade_drops_tables(engine):
    upgrade_schema(engine)

    with engine.connect() as connection:
        command.downgrade(migration_config(connection), "base")
        connection.commit()

    assert current_revision(engine) is None
    assert table_names(engine) & INITIAL_TABLES == set()


def test_processes_upgrade_at_once(database_url, engine):
    environment = {**os.environ, "IRP_DATABASE_URL": database_url}
    processes = [
        subprocess.Popen([str(BIN / "irp"), "db", "upgrade"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]

    outputs = [process.communicate(timeout=60) for process in processes]

    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert stdout.strip() == f"database at revision {head_revision()} (newest)"
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_cli_current_and_upgrade(database_url, monkeypatch):
    monkeypatch.setenv("IRP_DATABASE_URL", database_url)
    runner = CliRunner()

    before = runner.invoke(app, ["db", "current"])
    upgraded = runner.invoke(app, ["db", "upgrade"])
    after = runner.invoke(app, ["db", "current"])

    assert before.exit_code == 1
    assert "never migrated" in before.output
    assert "run `irp db upgrade`" in before.output
    assert upgraded.exit_code == 0, upgraded.output
    assert after.exit_code == 0
    assert after.output.strip() == f"database at revision {head_revision()} (newest)"


def test_cli_unreachable_database(monkeypatch):
    monkeypatch.setenv("IRP_DATABASE_URL", "postgresql://irp@127.0.0.1:1/irp")

    result = CliRunner().invoke(app, ["db", "current"])

    assert result.exit_code == 1
    assert "127.0.0.1:1/irp failed" in result.output
    assert "Traceback" not in result.output
